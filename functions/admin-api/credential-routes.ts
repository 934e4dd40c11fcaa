/**
 * The connect form's "Test credentials" before saving, included by functions/admin-api/handler.ts:
 *   POST /connections/test-credentials  body {sequence: {environment, clientId, clientSecret, baseUrl?}, sphere: {apiKey, baseUrl?}, taxCodes?}
 *        200 {sequence: {ok, code?, message}, sphere: {ok, code?, message}, taxCodes?: {ok, code?, message}}; 400 naming the field
 * Nothing is stored by the connector and no secret is echoed (checking tax codes writes their stand-in
 * products in Sphere, which the first calculation would write anyway); a saved connection is tested with POST /connections/{id}/test.
 */
import { checkCredentials } from '../../shared/connections';
import { CheckCredentialsInputSchema } from '../../shared/domain/connection-input';
import { json } from '../../shared/runtime/api-response';
import { type Dependencies, dependencies } from '../../shared/runtime/dependencies';
import { type AdminRoute } from '../../shared/runtime/http-handler';
import { parseAdminBody } from './parse-body';

export function createCredentialRoutes(getDeps: () => Dependencies): AdminRoute[] {
  return [
    {
      method: 'POST',
      path: '/connections/test-credentials',
      handle: async ({ event }) => json(200, await checkCredentials(getDeps(), parseAdminBody(event, CheckCredentialsInputSchema))),
    },
  ];
}

export const credentialRoutes: AdminRoute[] = createCredentialRoutes(() => dependencies());
