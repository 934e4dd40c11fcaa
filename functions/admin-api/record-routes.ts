/**
 * Synced records of the admin API (the console's "Sphere link" page), included by functions/admin-api/handler.ts:
 *   GET /connections/{id}/records?type=customer|product[&limit=N][&cursor=C]
 *       200 {items: [{type, id, sphereId, link, lastSyncedAt, ...}], nextCursor?}; 400 naming the parameter; 404 connection_not_found
 * `link` is the Sphere link state: `linked` (Sphere holds what was last written), `pending` (not in
 * Sphere yet, or its copy was found missing: the next sync writes it) or `archived` (customers).
 * Paged in Sequence id order; `nextCursor` is opaque and present while more may follow.
 */
import { invalidRequest } from '../../shared/domain/errors';
import { requireConnection } from '../../shared/connections/lookup';
import { json } from '../../shared/runtime/api-response';
import { type Dependencies, dependencies } from '../../shared/runtime/dependencies';
import { type AdminRoute } from '../../shared/runtime/http-handler';
import { type CustomerLink, type ProductLink } from '../../shared/store/links';

export const DEFAULT_RECORDS_LIMIT = 50;
export const MAX_RECORDS_LIMIT = 200;
const RECORD_TYPES = ['customer', 'product'] as const;
type RecordType = (typeof RECORD_TYPES)[number];

function parseType(raw: string | undefined): RecordType {
  if (raw === undefined || raw === '') throw invalidRequest('type', 'is required: customer or product');
  if (!(RECORD_TYPES as readonly string[]).includes(raw)) throw invalidRequest('type', 'must be customer or product');
  return raw as RecordType;
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_RECORDS_LIMIT;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RECORDS_LIMIT) throw invalidRequest('limit', `must be an integer from 1 to ${MAX_RECORDS_LIMIT}`);
  return limit;
}

/** The cursor is the last id of the previous page, base64url-encoded (opaque, safe in a URL). */
export function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ after: lastId }), 'utf8').toString('base64url');
}

function parseCursor(raw: string | undefined): { after?: string } {
  if (raw === undefined || raw === '') return {};
  try {
    const decoded = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof decoded.after === 'string' && decoded.after !== '') return { after: decoded.after };
  } catch {
    // falls through to the 400 below
  }
  throw invalidRequest('cursor', 'is not a cursor this API returned; start again without it');
}

/** What the route shows of a link: an allow-list (hashes and echo fingerprints stay internal). */
export function customerRecordView(link: CustomerLink): Record<string, unknown> {
  return {
    type: 'customer',
    id: link.customerId,
    sphereId: link.sphereCustomerId,
    link: link.archived ? 'archived' : link.contentHash ? 'linked' : 'pending',
    ...(link.taxStatus ? { taxStatus: link.taxStatus } : {}),
    tagged: link.tagged === true,
    lastSyncedAt: link.lastSyncedAt,
    ...(link.archivedAt ? { archivedAt: link.archivedAt } : {}),
  };
}

export function productRecordView(link: ProductLink): Record<string, unknown> {
  return {
    type: 'product',
    id: link.productId,
    sphereId: link.sphereProductId,
    link: link.contentHash ? 'linked' : 'pending',
    taxCode: link.taxCode,
    ...(link.taxCategoryId ? { taxCategoryId: link.taxCategoryId } : {}),
    lastSyncedAt: link.lastSyncedAt,
  };
}

export function createRecordRoutes(getDeps: () => Dependencies): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/connections/{id}/records',
      handle: async ({ event, params }) => {
        const deps = getDeps();
        const query = event.queryStringParameters ?? {};
        const type = parseType(query.type);
        const page = { limit: parseLimit(query.limit), ...parseCursor(query.cursor) };
        await requireConnection(deps, params.id!);
        const { links } = deps;
        const { items, lastId } =
          type === 'customer'
            ? await links.pageCustomers(params.id!, page).then((p) => ({ items: p.items.map(customerRecordView), lastId: p.lastId }))
            : await links.pageProducts(params.id!, page).then((p) => ({ items: p.items.map(productRecordView), lastId: p.lastId }));
        return json(200, { items, ...(lastId !== undefined ? { nextCursor: encodeCursor(lastId) } : {}) });
      },
    },
  ];
}

export const recordRoutes: AdminRoute[] = createRecordRoutes(() => dependencies());
