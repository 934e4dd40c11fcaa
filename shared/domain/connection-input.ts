/**
 * The admin API bodies of the connection lifecycle (§5.1), as strict zod schemas: an unknown key
 * anywhere is refused (400 naming the key), so a secret pasted into the wrong field is never
 * stored, echoed or logged. Error messages name fields and rules, never the value given.
 */
import * as z from 'zod';

export const SEQUENCE_ENVIRONMENTS = ['sandbox', 'production'] as const;

const requiredString = (what: string) =>
  z.string({ error: (issue) => (issue.input === undefined ? `${what} is required` : `${what} must be a string`) });

const text = (what: string, max: number) =>
  requiredString(what).trim().min(1, `${what} must not be empty`).max(max, `${what} must be at most ${max} characters`);

/** Credentials: trimmed (copy-paste), no whitespace inside, bounded. */
const credential = (what: string, max = 512) =>
  text(what, max).refine((s) => !/\s/.test(s), { message: `${what} must not contain whitespace` });

const baseUrl = (what: string) =>
  requiredString(what)
    .trim()
    .pipe(z.url({ protocol: /^https?$/, error: `${what} must be an absolute http(s) URL` }))
    .transform((s) => s.replace(/\/+$/, ''));

const environment = z.enum(SEQUENCE_ENVIRONMENTS, { error: 'sequence.environment must be "sandbox" or "production"' });

const TAX_CODES_REQUIRED =
  '{"default": "<your Sphere product tax code>", "byTaxCategory": {...}}; Sphere assigns its own product tax codes (Sphere > Products) and the connector has no built-in default';

const taxCode = (what: string) =>
  text(what, 64).refine((s) => /^[A-Za-z0-9_.:-]+$/.test(s), { message: `${what} may only contain letters, digits and _ . : -` });

const byTaxCategory = z.record(text('tax category id', 128), taxCode('tax code'), { error: 'taxCodes.byTaxCategory must be an object of taxCategoryId → Sphere tax code' });

const options = z.strictObject({
  recordTransactions: z.boolean({ error: 'options.recordTransactions must be true or false' }).optional(),
  calculateOnDraft: z.boolean({ error: 'options.calculateOnDraft must be true or false' }).optional(),
  allowBesideNativeIntegration: z.boolean({ error: 'options.allowBesideNativeIntegration must be true or false' }).optional(),
});

const clientIdRule = (s: string) => !s.includes(':');
const CLIENT_ID_COLON = 'sequence.clientId must not contain ":" (it would break HTTP Basic authentication)';

/** `POST /connections`. */
export const CreateConnectionInputSchema = z.strictObject(
  {
    name: text('name', 200),
    sequence: z.strictObject(
      {
        environment,
        clientId: credential('sequence.clientId').refine(clientIdRule, { message: CLIENT_ID_COLON }),
        clientSecret: credential('sequence.clientSecret'),
        baseUrl: baseUrl('sequence.baseUrl').optional(),
      },
      { error: (issue) => (issue.input === undefined ? 'sequence is required' : 'sequence must be an object') },
    ),
    sphere: z.strictObject(
      {
        apiKey: credential('sphere.apiKey'),
        baseUrl: baseUrl('sphere.baseUrl').optional(),
      },
      { error: (issue) => (issue.input === undefined ? 'sphere is required' : 'sphere must be an object') },
    ),
    // Required, default included: Sphere assigns its own product tax codes, so there is no built-in default.
    taxCodes: z.strictObject(
      { default: taxCode('taxCodes.default'), byTaxCategory: byTaxCategory.optional() },
      { error: (issue) => (issue.input === undefined ? `taxCodes is required: ${TAX_CODES_REQUIRED}` : 'taxCodes must be an object') },
    ),
    options: options.optional(),
  },
  { error: 'the body must be a JSON object' },
);
export type CreateConnectionInput = z.infer<typeof CreateConnectionInputSchema>;

/** `POST /connections/test-credentials`: the credentials, and optionally the tax codes to check with Sphere. */
export const CheckCredentialsInputSchema = CreateConnectionInputSchema.pick({ sequence: true, sphere: true }).extend({ taxCodes: CreateConnectionInputSchema.shape.taxCodes.optional() });
export type CheckCredentialsInput = z.infer<typeof CheckCredentialsInputSchema>;

/**
 * `PATCH /connections/{id}`: everything optional. The environment cannot change (it decides the
 * Sequence account lock and the Sphere pairing): disconnect and create a new connection instead.
 */
export const UpdateConnectionInputSchema = z.strictObject(
  {
    name: text('name', 200).optional(),
    sequence: z
      .strictObject(
        {
          environment: z.never({ error: 'sequence.environment cannot be changed: disconnect and create a new connection' }).optional(),
          clientId: credential('sequence.clientId').refine(clientIdRule, { message: CLIENT_ID_COLON }).optional(),
          clientSecret: credential('sequence.clientSecret').optional(),
          baseUrl: baseUrl('sequence.baseUrl').optional(),
        },
        { error: 'sequence must be an object' },
      )
      .optional(),
    sphere: z.strictObject({ apiKey: credential('sphere.apiKey').optional(), baseUrl: baseUrl('sphere.baseUrl').optional() }, { error: 'sphere must be an object' }).optional(),
    taxCodes: z
      .strictObject({ default: taxCode('taxCodes.default').optional(), byTaxCategory: byTaxCategory.optional() }, { error: 'taxCodes must be an object' })
      .optional(),
    options: options.optional(),
  },
  { error: 'the body must be a JSON object' },
);
export type UpdateConnectionInput = z.infer<typeof UpdateConnectionInputSchema>;

export interface InputProblem {
  /** Dotted path of the offending field (`sequence.clientSecret`, `password`), or `body`. */
  field: string;
  message: string;
}

/**
 * The first problem of a failed parse, naming the field. An unknown key is named by its own path
 * (not its parent's), and the message says it was not stored.
 */
export function firstInputProblem(error: z.ZodError): InputProblem {
  const issue = error.issues[0];
  if (!issue) return { field: 'body', message: 'the body is invalid' };
  const parent = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const field = [...parent, String(issue.keys[0] ?? '')].join('.');
    const others = issue.keys.length > 1 ? ` (and ${issue.keys.length - 1} more)` : '';
    return {
      field,
      message: `${field} is not a known field${others}; nothing was stored. Credentials belong only in sequence.clientId, sequence.clientSecret and sphere.apiKey`,
    };
  }
  return { field: parent.length > 0 ? parent.join('.') : 'body', message: issue.message };
}
