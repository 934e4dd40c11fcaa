import { createHmac } from 'node:crypto';
import { verifySignature } from '../../../shared/webhooks/signature';
import { signSequenceWebhook } from '../../../local/sequence-sim/webhooks';

describe('simulator webhook signer', () => {
  const secret = 'whsec_UserSubmittedSecret123';
  const body = Buffer.from(JSON.stringify({ notificationType: 'CUSTOMER_CREATED', sequenceAccountId: 'a', resource: { id: 'c1', name: 'Zoë' } }));

  it('produces t=<ms>,s=<hex HMAC-SHA256 of "<t>.<raw body>"> keyed with the secret as given', () => {
    const t = 1748866120822;
    const header = signSequenceWebhook(secret, body, t);
    const expected = createHmac('sha256', secret).update(Buffer.concat([Buffer.from(`${t}.`), body])).digest('hex');
    expect(header).toBe(`t=${t},s=${expected}`);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is accepted by the connector’s verifier (two independent implementations agree)', () => {
    const t = Date.now();
    expect(verifySignature(signSequenceWebhook(secret, body, t), body, [secret], t)).toEqual({ ok: true, timestampMs: t });
    expect(verifySignature(signSequenceWebhook('whsec_other', body, t), body, [secret], t)).toMatchObject({ ok: false, reason: 'signature_mismatch' });
  });
});
