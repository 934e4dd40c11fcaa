/** The console's warnings on a connection: the reported ones, plus a last error about a native integration. */
import { type ConnectionView, connectionWarnings } from '../../../console/app/model';

const base = { id: 'conn_1', name: 'Acme', status: 'ACTIVE', environment: 'sandbox', sequenceAccountId: 'acc' } as ConnectionView;

it('lists reported warnings and a native-integration last error, nothing else', () => {
  expect(connectionWarnings(base)).toEqual([]);
  expect(connectionWarnings({ ...base, lastError: { code: 'webhook_registration_failed', message: 'x', at: '' } })).toEqual([]);
  expect(
    connectionWarnings({
      ...base,
      warnings: [{ code: 'sphere_link_foreign', message: 'a customer carries a Sphere id the connector did not write' }],
      lastError: { code: 'native_integration_detected', message: 'turn off the native integration', at: '' },
    }),
  ).toEqual(['sphere_link_foreign: a customer carries a Sphere id the connector did not write', 'native_integration_detected: turn off the native integration']);
});
