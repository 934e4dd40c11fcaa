import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { signatureHeader, verifySignature } from '../../../shared/webhooks/signature';

const secret = 'whsec_test_secret';
const now = 1_748_866_120_822;

describe('Sequence webhook signatures', () => {
  it('verifies the documented scheme: hex HMAC-SHA256 of "<t>.<raw body>" with the whole secret', () => {
    const body = Buffer.from('{"notificationType":"CUSTOMER_CREATED"}');
    const s = createHmac('sha256', secret).update(`${now}.${body.toString()}`).digest('hex');
    expect(verifySignature(`t=${now},s=${s}`, body, [secret], now)).toEqual({ ok: true, timestampMs: now });
  });

  it('accepts any raw bytes signed correctly and rejects any single-byte change', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 512 }), fc.nat(), (bytes, flipAt) => {
        const body = Buffer.from(bytes);
        const header = signatureHeader(secret, body, now);
        expect(verifySignature(header, body, [secret], now).ok).toBe(true);
        const tampered = Buffer.from(body);
        tampered[flipAt % tampered.length] ^= 0x01;
        expect(verifySignature(header, tampered, [secret], now)).toEqual({ ok: false, reason: 'signature_mismatch' });
      }),
      { numRuns: 200 },
    );
  });

  it('rejects timestamps outside five minutes in either direction, saying how old an authentic one is', () => {
    const body = Buffer.from('{}');
    expect(verifySignature(signatureHeader(secret, body, now - 300_001), body, [secret], now)).toEqual({ ok: false, reason: 'stale_timestamp', ageMs: 300_001 });
    expect(verifySignature(signatureHeader(secret, body, now + 300_001), body, [secret], now)).toEqual({ ok: false, reason: 'stale_timestamp', ageMs: -300_001 });
    expect(verifySignature(signatureHeader(secret, body, now - 299_000), body, [secret], now).ok).toBe(true);
  });

  it('checks the HMAC before the timestamp: a stale forgery is a mismatch, never "stale"', () => {
    const body = Buffer.from('{}');
    expect(verifySignature(signatureHeader('whsec_not_the_secret', body, now - 3_600_000), body, [secret], now)).toEqual({ ok: false, reason: 'signature_mismatch' });
  });

  it('keeps the tolerance configurable', () => {
    const body = Buffer.from('{}');
    expect(verifySignature(signatureHeader(secret, body, now - 3_000_000), body, [secret], now, 3_600_000).ok).toBe(true);
  });

  it('names what is wrong with missing and malformed headers', () => {
    const body = Buffer.from('{}');
    expect(verifySignature(undefined, body, [secret], now)).toEqual({ ok: false, reason: 'missing_signature' });
    expect(verifySignature('', body, [secret], now)).toEqual({ ok: false, reason: 'missing_signature' });
    for (const bad of ['garbage', 't=abc,s=00', `t=${now}`, 's=00', `t=${now},s`]) {
      expect(verifySignature(bad, body, [secret], now)).toEqual({ ok: false, reason: 'malformed_signature' });
    }
    expect(verifySignature(`t=${now},s=nothex`, body, [secret], now)).toEqual({ ok: false, reason: 'signature_mismatch' });
  });

  it('accepts the new or the old secret during rotation, and no other', () => {
    const body = Buffer.from('{"a":1}');
    const header = signatureHeader('whsec_old', body, now);
    expect(verifySignature(header, body, ['whsec_new', 'whsec_old'], now).ok).toBe(true);
    expect(verifySignature(header, body, ['whsec_new'], now).ok).toBe(false);
  });
});
