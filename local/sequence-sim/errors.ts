/** Error bodies in the shapes Sequence documents (`ApiError`, `DatabaseErrors`). */
import { type ZodError } from 'zod';

export class SimHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

export interface FieldError {
  key: string;
  message: string;
}

/** 400 `{"error":{"type":"validationError","message":"Request data validation failed","errors":[...]}}`. */
export function validationError(errors: FieldError[]): SimHttpError {
  return new SimHttpError(400, {
    error: {
      type: 'validationError',
      message: 'Request data validation failed',
      errors: errors.map((e) => ({ code: 'validationError', message: e.message, key: e.key, errors: [] })),
    },
  });
}

export function zodValidationError(error: ZodError, prefix = ''): SimHttpError {
  return validationError(
    error.issues.map((issue) => {
      const key = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
      return { key, message: `${key || 'body'} ${issue.code === 'invalid_type' && issue.message.endsWith('received undefined') ? 'should not be blank' : issue.message}` };
    }),
  );
}

export function notFound(what: string, id: string): SimHttpError {
  return new SimHttpError(404, { error: { type: 'notFound', message: `${what} with id ${id} not found` } });
}

export function badRequest(message: string, type = 'badRequest'): SimHttpError {
  return new SimHttpError(400, { error: { type, message } });
}

/** 400 in the `DatabaseErrors` shape (used by notification policy endpoints). */
export function databaseError(key: string, error: string): SimHttpError {
  return new SimHttpError(400, { errors: [{ key, error }] });
}
