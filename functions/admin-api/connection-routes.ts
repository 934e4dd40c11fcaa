/**
 * The connection lifecycle routes of the admin API (§5.1). Thin: parse, call shared/connections, answer
 * with connectionView (never a secret). Errors are answered by httpHandler's one mapping.
 */
import { connectionView } from '../../shared/domain/connection';
import { CreateConnectionInputSchema, UpdateConnectionInputSchema } from '../../shared/domain/connection-input';
import {
  createConnection,
  disconnectConnection,
  getConnection,
  listConnections,
  startBackfill,
  testConnection,
  updateConnection,
} from '../../shared/connections';
import { json } from '../../shared/runtime/api-response';
import { dependencies } from '../../shared/runtime/dependencies';
import { type AdminRoute } from '../../shared/runtime/http-handler';
import { parseAdminBody } from './parse-body';

const deps = dependencies();

export const connectionRoutes: AdminRoute[] = [
  {
    method: 'POST',
    path: '/connections',
    handle: async ({ event }) => {
      const input = parseAdminBody(event, CreateConnectionInputSchema);
      const connection = await createConnection(deps, input);
      return json(201, connectionView(connection), { location: `/connections/${connection.id}` });
    },
  },
  {
    method: 'GET',
    path: '/connections',
    handle: async () => json(200, { items: (await listConnections(deps)).map(connectionView) }),
  },
  {
    method: 'GET',
    path: '/connections/{id}',
    handle: async ({ params }) => json(200, connectionView(await getConnection(deps, params.id!))),
  },
  {
    method: 'PATCH',
    path: '/connections/{id}',
    handle: async ({ event, params }) => {
      const input = parseAdminBody(event, UpdateConnectionInputSchema);
      return json(200, connectionView(await updateConnection(deps, params.id!, input)));
    },
  },
  {
    method: 'DELETE',
    path: '/connections/{id}',
    handle: async ({ params }) => json(200, connectionView(await disconnectConnection(deps, params.id!))),
  },
  {
    method: 'POST',
    path: '/connections/{id}/test',
    handle: async ({ params }) => {
      const { report, connection } = await testConnection(deps, params.id!);
      return json(200, { ...report, connection: connectionView(connection) });
    },
  },
  {
    method: 'POST',
    path: '/connections/{id}/backfill',
    handle: async ({ event, params }) => {
      const restart = event.queryStringParameters?.restart === 'true';
      const connection = await startBackfill(deps, params.id!, { restart });
      return json(202, { backfill: connection.backfill, connection: connectionView(connection) });
    },
  },
];
