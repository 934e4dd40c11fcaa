/**
 * Validate bodies against Sequence's OpenAPI document with ajv. OpenAPI 3.0 schemas need light
 * conversion: `nullable` → a null alternative, `#/components/schemas/X` refs → refs into one
 * registered components schema, OpenAPI-only keywords (`example`) dropped.
 */
import { readFileSync } from 'node:fs';
import Ajv, { type ValidateFunction } from 'ajv';

const ROOT_ID = 'sequence-openapi';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

export function convertOpenApiSchema(node: Json): Json {
  if (Array.isArray(node)) return node.map(convertOpenApiSchema);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'example' || k === 'examples' || k === 'nullable' || k === 'xml' || k === 'externalDocs' || k === 'discriminator') continue;
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) {
      out.$ref = `${ROOT_ID}#/components/schemas/${v.slice('#/components/schemas/'.length)}`;
      continue;
    }
    if (k === 'properties' && isObject(v)) {
      // Property names are not schemas: convert each value, keep every key.
      out.properties = Object.fromEntries(Object.entries(v).map(([name, schema]) => [name, convertOpenApiSchema(schema)]));
      continue;
    }
    out[k] = convertOpenApiSchema(v);
  }
  if (node.nullable === true) {
    if (typeof out.$ref === 'string' || out.allOf || out.oneOf || out.anyOf) {
      return { anyOf: [out, { type: 'null' }] };
    }
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
  }
  return out;
}

export interface OpenApiValidator {
  /** Errors (empty when valid) for a response body of `method path` with `status`. */
  validateResponse(method: string, pathTemplate: string, status: number, body: unknown): string[];
  /** Errors for a body against a named component schema. */
  validateComponent(name: string, body: unknown): string[];
  hasResponseSchema(method: string, pathTemplate: string, status: number): boolean;
}

export function loadOpenApiValidator(file: string): OpenApiValidator {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as JsonObject;
  const components = (doc.components as JsonObject).schemas as JsonObject;
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ $id: ROOT_ID, components: { schemas: convertOpenApiSchema(components) } });
  const cache = new Map<string, ValidateFunction>();

  const responseSchema = (method: string, pathTemplate: string, status: number): Json | undefined => {
    const paths = doc.paths as JsonObject;
    const op = (paths[pathTemplate] as JsonObject | undefined)?.[method.toLowerCase()] as JsonObject | undefined;
    const response = (op?.responses as JsonObject | undefined)?.[String(status)] as JsonObject | undefined;
    const content = (response?.content as JsonObject | undefined)?.['application/json'] as JsonObject | undefined;
    return content?.schema;
  };

  const run = (key: string, schema: () => Json, body: unknown): string[] => {
    let validate = cache.get(key);
    if (!validate) {
      validate = ajv.compile(convertOpenApiSchema(schema()) as object);
      cache.set(key, validate);
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).slice(0, 10).map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
  };

  return {
    hasResponseSchema: (method, pathTemplate, status) => responseSchema(method, pathTemplate, status) !== undefined,
    validateResponse(method, pathTemplate, status, body) {
      const schema = responseSchema(method, pathTemplate, status);
      if (schema === undefined) return [`the OpenAPI document has no JSON schema for ${method} ${pathTemplate} ${status}`];
      return run(`${method} ${pathTemplate} ${status}`, () => schema, body);
    },
    validateComponent(name, body) {
      if (!(name in components)) return [`no component schema ${name}`];
      return run(`component ${name}`, () => ({ $ref: `#/components/schemas/${name}` }), body);
    },
  };
}
