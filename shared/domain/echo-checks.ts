/**
 * Did an upstream keep what we wrote? (issue 13 §2, assumptions SPHERE-V1-*-FIELDS in shared/assumptions/registry.ts.) Sphere's v1 API
 * behaves like Django REST Framework, which ignores request fields it does not know and still answers
 * 200: a wrong field name would be dropped without a word. So after every v1 write the connector
 * compares each field it sent with the record Sphere returned. Pure: the Sphere client calls it with
 * the wire body sent and the body returned.
 *
 * Rules: a field we did not send (undefined/null) is not checked; decimal strings compare by value
 * ("100" = "100.00"); `caseInsensitive` paths (currency) compare ignoring case; arrays compare by index.
 * Paths are dotted wire names with `*` for array indices in patterns (`line_items.*.amount`).
 *
 * The same code covers a write Sphere refuses (400) over a field the connector sends as Sequence has it
 * (a line quantity): no merchant input can correct that, so it is not the merchant's error either.
 */
import { DECIMAL_STRING, Decimal } from './decimal';
import { type UpstreamDetails, UserActionRequiredError } from './errors';

export interface EchoDifference {
  /** Dotted wire path, with array indices (`billing_address.postal_code`, `line_items.0.amount`). */
  field: string;
  /** The value sent, as JSON. */
  sent: string;
  /** What came back, as JSON; `(missing)` when absent. */
  echoed: string;
}

export interface EchoCheckOptions {
  /** Only these path patterns (and what is under them) are checked; default every field sent. */
  only?: readonly string[];
  /** Path patterns compared ignoring case. */
  caseInsensitive?: readonly string[];
}

function pattern(path: readonly (string | number)[]): string {
  return path.map((p) => (typeof p === 'number' ? '*' : p)).join('.');
}

function under(path: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => path === p || path.startsWith(`${p}.`));
}

function show(value: unknown): string {
  return value === undefined || value === null ? '(missing)' : JSON.stringify(value);
}

function sameLeaf(sent: unknown, echoed: unknown, caseInsensitive: boolean): boolean {
  // An id or amount written back as a JSON number is the same value (tolerated, not a difference).
  if (typeof sent === 'string' && typeof echoed === 'number' && Number.isFinite(echoed)) echoed = String(echoed);
  if (typeof sent === 'string' && typeof echoed === 'string') {
    if (DECIMAL_STRING.test(sent) && DECIMAL_STRING.test(echoed)) return new Decimal(sent).equals(new Decimal(echoed));
    return caseInsensitive ? sent.toLowerCase() === echoed.toLowerCase() : sent === echoed;
  }
  return sent === echoed;
}

/** Every field sent that came back missing or different. */
export function echoDifferences(sent: unknown, echoed: unknown, options: EchoCheckOptions = {}): EchoDifference[] {
  const out: EchoDifference[] = [];
  const name = (path: readonly (string | number)[]): string => path.join('.') || '(the whole record)';
  const walk = (s: unknown, e: unknown, path: (string | number)[]): void => {
    if (s === undefined || s === null) return;
    const at = pattern(path);
    if (options.only && path.length > 0 && !under(at, options.only) && !options.only.some((p) => p.startsWith(`${at}.`))) return;
    if (Array.isArray(s)) {
      if (!Array.isArray(e)) {
        out.push({ field: name(path), sent: show(s), echoed: show(e) });
        return;
      }
      s.forEach((item, i) => walk(item, e[i], [...path, i]));
      return;
    }
    if (typeof s === 'object') {
      if (typeof e !== 'object' || e === null || Array.isArray(e)) {
        out.push({ field: name(path), sent: show(s), echoed: show(e) });
        return;
      }
      for (const [key, value] of Object.entries(s)) walk(value, (e as Record<string, unknown>)[key], [...path, key]);
      return;
    }
    if (!sameLeaf(s, e, under(at, options.caseInsensitive ?? []))) out.push({ field: name(path), sent: show(s), echoed: show(e) });
  };
  walk(sent, echoed, []);
  return out;
}

/**
 * `sphere_field_not_accepted`: Sphere answered a write with a record that lacks or changed a field we
 * sent, or (`refusal`, its 400) refused a field the connector sends as Sequence has it. A user-kind
 * error (not retried blindly, kept as a failure record with the fix): retrying unchanged gives the
 * same answer; the field name or value must be corrected first.
 */
export class SphereFieldNotAcceptedError extends UserActionRequiredError {
  readonly differences: readonly EchoDifference[];

  constructor(resource: string, externalId: string, differences: readonly EchoDifference[], refusal?: UpstreamDetails) {
    const list = differences.map((d) => `${d.field}: sent ${d.sent}, Sphere ${refusal ? 'answered' : 'returned'} ${d.echoed}`).join('; ');
    super(
      'sphere_field_not_accepted',
      refusal
        ? `Sphere refused ${resource} ${externalId} over a field the connector sends as Sequence has it, not over data the merchant can correct: ${list}. Run \`sphere-connector verify\` against this Sphere organisation`
        : `Sphere did not keep what the connector wrote to ${resource} ${externalId}: ${list}`,
      {
        fix: refusal
          ? 'Run `npx sphere-connector verify` against this Sphere organisation and send its output to the connector\'s maintainers: the connector must round or leave out this field for Sphere (shared/tax/transactions.ts); retry this failure once it does'
          : 'Sphere accepted the request but dropped or changed these fields, so its record would be wrong (e.g. an exemption or tax code ignored). ' +
            "Check the field's name and value against Sphere's v1 API (https://server.getsphere.com/v1/openapi.json) and correct shared/sphere/field-names.ts, or ask Sphere support; then retry",
        ...(refusal ? { upstream: refusal } : {}),
      },
    );
    this.differences = differences;
  }
}

/** Field errors of a v1 400, flattened to dotted paths: Sphere's documented `{"line_items.0.amount": [...]}` or DRF's nested default. */
function fieldErrorPaths(body: unknown, path: (string | number)[] = []): { path: (string | number)[]; messages: string[] }[] {
  if (Array.isArray(body) && body.length > 0 && body.every((m) => typeof m === 'string')) return [{ path, messages: body as string[] }];
  if (Array.isArray(body)) return body.flatMap((item, i) => fieldErrorPaths(item, [...path, i]));
  if (typeof body !== 'object' || body === null) return [];
  return Object.entries(body).flatMap(([key, value]) => fieldErrorPaths(value, [...path, ...key.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k))]));
}

/**
 * The fields of `patterns` a v1 400 body names, each with the value sent there and Sphere's messages
 * (in `echoed`); empty when the 400 names none of them (then it is about the merchant's data).
 */
export function refusedFields(sent: unknown, errorBody: unknown, patterns: readonly string[]): EchoDifference[] {
  return fieldErrorPaths(errorBody)
    .filter((e) => patterns.includes(pattern(e.path)))
    .map((e) => {
      const value = e.path.reduce<unknown>((at, key) => (typeof at === 'object' && at !== null ? (at as Record<string | number, unknown>)[key] : undefined), sent);
      return { field: e.path.join('.'), sent: show(value), echoed: JSON.stringify(e.messages.join(' ')) };
    });
}

/** Throws `sphere_field_not_accepted` when any checked field sent is missing or changed in the echo. */
export function assertEchoed(resource: string, externalId: string, sent: unknown, echoed: unknown, options: EchoCheckOptions = {}): void {
  const differences = echoDifferences(sent, echoed, options);
  if (differences.length > 0) throw new SphereFieldNotAcceptedError(resource, externalId, differences);
}
