/** Sequence's error bodies (policy in ./index.ts). */
import * as z from 'zod';

/** `ApiError`: `{"error":{"type","message","errors":[{code,message,key,errors}]}}`. */
export const ApiErrorBodySchema = z.looseObject({
  error: z.looseObject({
    type: z.string(),
    message: z.string().nullish(),
    errors: z.array(z.looseObject({ code: z.string().nullish(), message: z.string().nullish(), key: z.string().nullish() })).nullish(),
  }),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBodySchema>;

/** `DatabaseErrors`: `{"errors":[{key,error}]}`. */
export const DatabaseErrorsBodySchema = z.looseObject({
  errors: z.array(z.looseObject({ key: z.string().nullish(), error: z.string().nullish() })),
});
export type DatabaseErrorsBody = z.infer<typeof DatabaseErrorsBodySchema>;
