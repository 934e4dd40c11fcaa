/** Finding a connection for an admin route: 404 `connection_not_found` for anything unknown. */
import { type Connection } from '../domain/connection';
import { HttpError } from '../runtime/api-response';
import { type Dependencies } from '../runtime/dependencies';

/** Connection ids are ours (`conn_` + 32 hex); anything else cannot exist. */
export const CONNECTION_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export function connectionNotFound(connectionId: string): HttpError {
  const shown = CONNECTION_ID_PATTERN.test(connectionId) ? connectionId : '(invalid id)';
  return new HttpError(404, 'connection_not_found', `No connection ${shown}. List connections with GET /connections.`);
}

export async function requireConnection(deps: Pick<Dependencies, 'connections'>, connectionId: string): Promise<Connection> {
  if (!CONNECTION_ID_PATTERN.test(connectionId)) throw connectionNotFound(connectionId);
  const connection = await deps.connections.get(connectionId);
  if (!connection) throw connectionNotFound(connectionId);
  return connection;
}

/** Changing a disconnected connection is refused: reconnect with POST /connections instead. */
export function requireLive(connection: Connection, action: string): void {
  if (connection.status === 'DISCONNECTED') {
    throw new HttpError(409, 'connection_disconnected', `Connection ${connection.id} is disconnected, so it cannot ${action}. Create a new connection with POST /connections.`);
  }
}

export function listConnections(deps: Pick<Dependencies, 'connections'>): Promise<Connection[]> {
  return deps.connections.list();
}

export function getConnection(deps: Pick<Dependencies, 'connections'>, connectionId: string): Promise<Connection> {
  return requireConnection(deps, connectionId);
}
