/**
 * Looking for a native Sequence↔Sphere integration beside this connector (issue 13 §5; the rules are
 * in shared/domain/native-integration.ts). Connect and "Test credentials" read the first page of
 * customers, prices and invoices; the hourly reconcile passes the evidence of every customer it
 * walks and adds the first page of prices and invoices. The finding is kept on the connection as a
 * `native_sphere_integration_detected` warning, removed once nothing shows it any more.
 */
import { type Connection } from '../domain/connection';
import {
  MAX_NATIVE_EVIDENCE,
  NATIVE_SPHERE_WARNING_CODE,
  type NativeLinkEvidence,
  customerNativeEvidence,
  invoiceNativeEvidence,
  catalogueNativeEvidence,
  warningsAfterScan,
} from '../domain/native-integration';
import { type FlowLogger } from '../runtime/ports';
import { type SequenceClient } from '../sequence';
import { type ConnectionUpdates } from '../store/ports';
import * as z from 'zod';

/** Only what the scan reads of a price (or a customer, by verify): a shape the connector does not otherwise use cannot break the scan. */
export const IntegrationIdsSchema = z.looseObject({
  id: z.string(),
  integrationIds: z.array(z.looseObject({ service: z.string(), id: z.string() })).nullish().transform((ids) => ids ?? []),
});

/** One page is enough to see a link that tags everything it syncs. */
const SCAN_PAGE_SIZE = 100;

async function firstPage<T>(items: AsyncGenerator<T>): Promise<T[]> {
  const page: T[] = [];
  for await (const item of items) {
    page.push(item);
    if (page.length >= SCAN_PAGE_SIZE) break;
  }
  return page;
}

function collect<T>(items: readonly T[], evidenceOf: (item: T) => NativeLinkEvidence | undefined): NativeLinkEvidence[] {
  return items.flatMap((item) => evidenceOf(item) ?? []);
}

/** Prices and invoices (first page each): the connector never tags the one nor links the other. */
export async function scanPricesAndInvoices(clients: { sequence: Pick<SequenceClient, 'paginate' | 'listInvoices'> }): Promise<NativeLinkEvidence[]> {
  const limit = { limit: SCAN_PAGE_SIZE };
  const [prices, invoices] = await Promise.all([
    firstPage(clients.sequence.paginate('/prices', IntegrationIdsSchema, {}, limit)),
    firstPage(clients.sequence.listInvoices({}, limit)),
  ]);
  return [...collect(prices, (p) => catalogueNativeEvidence('price', p)), ...collect(invoices, invoiceNativeEvidence)];
}

/** The Sequence listings the scans read. */
export interface NativeScanClients {
  sequence: Pick<SequenceClient, 'paginate' | 'listInvoices' | 'listCustomers' | 'listProducts'>;
}

/** Connect and "Test credentials": the first page of customers, products, prices and invoices. */
export async function scanForNativeLink(clients: NativeScanClients): Promise<NativeLinkEvidence[]> {
  const [customers, products, others] = await Promise.all([
    firstPage(clients.sequence.listCustomers({}, { limit: SCAN_PAGE_SIZE })),
    firstPage(clients.sequence.listProducts({ limit: SCAN_PAGE_SIZE })),
    scanPricesAndInvoices(clients),
  ]);
  return [...collect(customers, customerNativeEvidence), ...collect(products, productNativeEvidence), ...others].slice(0, MAX_NATIVE_EVIDENCE);
}

/** Products as the 2024-07-30 API shows them carry no integration ids; should one appear, it counts like a price's. */
export function productNativeEvidence(product: { id: string }): NativeLinkEvidence | undefined {
  const { integrationIds } = product as { integrationIds?: unknown };
  const parsed = IntegrationIdsSchema.shape.integrationIds.safeParse(integrationIds);
  return parsed.success ? catalogueNativeEvidence('product', { id: product.id, integrationIds: parsed.data }) : undefined;
}

/** Store the finding on the connection (only when it changes what the connection shows). */
export async function applyNativeLinkFinding(deps: { connections: Pick<ConnectionUpdates, 'update'>; logger: FlowLogger }, connection: Connection, evidence: readonly NativeLinkEvidence[]): Promise<Connection> {
  const had = connection.warnings?.some((w) => w.code === NATIVE_SPHERE_WARNING_CODE) ?? false;
  if (!had && evidence.length === 0) return connection;
  const warnings = warningsAfterScan(connection, evidence, new Date().toISOString());
  if (evidence.length > 0) {
    deps.logger.warn('A native Sequence↔Sphere integration seems linked beside the connector', {
      connectionId: connection.id,
      evidence: evidence.slice(0, MAX_NATIVE_EVIDENCE).map((e) => `${e.resourceType} ${e.resourceId}`),
      allowBesideNativeIntegration: connection.options.allowBesideNativeIntegration === true,
    });
  } else {
    deps.logger.info('No sign of a native Sequence↔Sphere integration any more; warning removed', { connectionId: connection.id });
  }
  return deps.connections.update(connection.id, { warnings });
}
