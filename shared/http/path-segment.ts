/**
 * An id as one segment of an upstream URL path. Encoding alone is not enough: encodeURIComponent
 * leaves `.` and `..` as they are, and a URL resolves them (Sequence `GET /invoices/..` became
 * `GET /api/`). Ids are checked at the edge (shared/domain/ids.ts); reaching this refusal is our bug,
 * so it fails loudly with a stable code instead of calling another resource.
 */
import { ConnectorBugError, type UpstreamService } from '../domain/errors';

export function pathSegment(service: UpstreamService, id: string): string {
  if (typeof id !== 'string' || id === '' || id === '.' || id === '..') {
    const shown = typeof id === 'string' ? JSON.stringify(id) : typeof id;
    throw new ConnectorBugError(`${service}_invalid_id`, `A ${service === 'sequence' ? 'Sequence' : 'Sphere'} id used in a URL path must be non-empty and not "." or ".." (got ${shown})`, {
      upstream: { service },
    });
  }
  return encodeURIComponent(id);
}
