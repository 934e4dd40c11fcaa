/**
 * The admin API function (§5.1): one Lambda for every admin route, routed by path. Each flow adds
 * its routes module here; the handler stays a composition.
 */
import { type AdminRoute, adminRouter, httpHandler } from '../../shared/runtime/http-handler';
import { connectionRoutes } from './connection-routes';
import { credentialRoutes } from './credential-routes';
import { failureRoutes } from './failure-routes';
import { invoiceRoutes } from './invoice-routes';
import { operationsRoutes } from './operations-routes';
import { recordRoutes } from './record-routes';

/** Every route this function serves; the stack routes exactly ADMIN_ROUTES (shared/runtime/catalogue.ts) here (test/infra/catalogue.test.ts). */
export const adminRoutes: readonly AdminRoute[] = [...credentialRoutes, ...connectionRoutes, ...invoiceRoutes, ...failureRoutes, ...operationsRoutes, ...recordRoutes];

export const handler = httpHandler(adminRouter(adminRoutes));
