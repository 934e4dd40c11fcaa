/**
 * The one connection guard, for the admin routes, the direct invocation, webhook ingest and the
 * queue workers: one id pattern (shared/domain/ids.ts), so an id that cannot exist (dot segments, a
 * 10,000-character id) is unknown without a DynamoDB read, and one answer for unknown (404
 * `connection_not_found`) and for disconnected (409 `connection_disconnected`).
 */
import { type Connection, acceptsWork } from '../domain/connection';
import { RequestError } from '../domain/errors';
import { isConnectionId } from '../domain/ids';
import { type ConnectionRepository } from '../store/connections';
import { type ConnectionLookup } from '../store/ports';

type ConnectionsPort = { connections: ConnectionLookup };

export class ConnectionNotFoundError extends RequestError {
  constructor(connectionId: string) {
    super('connection_not_found', `No connection ${isConnectionId(connectionId) ? connectionId : '(invalid id)'}. List connections with GET /connections.`);
  }
}

export class ConnectionDisconnectedError extends RequestError {
  constructor(connection: Pick<Connection, 'id'>, action: string) {
    super('connection_disconnected', `Connection ${connection.id} is disconnected, so it cannot ${action}. Create a new connection with POST /connections.`);
  }
}

/** The stored connection, or undefined for an id that is not stored or cannot exist. */
export async function findConnection(deps: ConnectionsPort, connectionId: string | undefined): Promise<Connection | undefined> {
  if (!isConnectionId(connectionId)) return undefined;
  return deps.connections.get(connectionId);
}

export interface RequireConnectionOptions {
  /** Refuse a disconnected connection; the text says what it cannot do ("be changed", "calculate tax"). */
  live?: string;
}

export async function requireConnection(deps: ConnectionsPort, connectionId: string, options: RequireConnectionOptions = {}): Promise<Connection> {
  const connection = await findConnection(deps, connectionId);
  if (!connection) throw new ConnectionNotFoundError(connectionId);
  if (options.live !== undefined && !acceptsWork(connection)) throw new ConnectionDisconnectedError(connection, options.live);
  return connection;
}

export function listConnections(deps: { connections: Pick<ConnectionRepository, 'list'> }): Promise<Connection[]> {
  return deps.connections.list();
}

export function getConnection(deps: ConnectionsPort, connectionId: string): Promise<Connection> {
  return requireConnection(deps, connectionId);
}
