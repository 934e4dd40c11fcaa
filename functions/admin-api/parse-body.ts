/** Admin bodies: UTF-8 JSON first (400 `invalid_json`), then the strict schema (400 naming the field). */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod';
import type { ZodType } from 'zod';
import { firstInputProblem } from '../../shared/domain/connection-input';
import { RequestError } from '../../shared/domain/errors';
import { parseJsonBody } from '../../shared/runtime/http-handler';

export function parseAdminBody<T>(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>, schema: ZodType<T>): T {
  const value = parseJsonBody(event, z.unknown());
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const problem = firstInputProblem(parsed.error);
    throw new RequestError('invalid_request', problem.message, { field: problem.field });
  }
  return parsed.data;
}
