import { SIGNED_REQUEST_DELIVERY_TTL_SECONDS, VERSIONED_DELIVERY_TTL_SECONDS, deliveryKey, parseEnvelope, resourceIdOf } from '../../../shared/webhooks/envelope';

const raw = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('parseEnvelope', () => {
  it('accepts the documented envelope and keeps unknown fields', () => {
    const parsed = parseEnvelope(raw({ notificationType: 'CUSTOMER_CREATED', sequenceAccountId: 'acc', resourceType: 'Customer', resourceId: 'r', resource: { id: 'c1', extra: 1 } }));
    expect(parsed.ok).toBe(true);
  });
  it.each([
    ['not JSON', Buffer.from('{'), 'invalid_json'],
    ['an array', raw([]), 'invalid_envelope'],
    ['no notificationType', raw({ sequenceAccountId: 'acc' }), 'invalid_envelope'],
    ['no sequenceAccountId', raw({ notificationType: 'X' }), 'invalid_envelope'],
    ['resource not an object', raw({ notificationType: 'X', sequenceAccountId: 'a', resource: 'str' }), 'invalid_envelope'],
    // Issue 11 §3: decoded strictly, never repaired into U+FFFD.
    ['invalid UTF-8', Buffer.concat([Buffer.from('{"notificationType":"CUSTOMER_CREATED","sequenceAccountId":"a","resource":{"id":"c'), Buffer.from([0xc3, 0x28]), Buffer.from('"}}')]), 'invalid_json'],
  ])('rejects %s', (_name, body, code) => {
    const parsed = parseEnvelope(body);
    expect(parsed).toMatchObject({ ok: false, code });
  });
  it('names the field at fault', () => {
    expect(parseEnvelope(raw({ notificationType: 'X' }))).toMatchObject({ message: expect.stringContaining('sequenceAccountId') });
  });
});

describe('resourceIdOf / deliveryKey', () => {
  const base = { notificationType: 'INVOICE_UPDATED', sequenceAccountId: 'acc' };
  it('keys on resource.id, falling back to resourceId', () => {
    expect(resourceIdOf({ ...base, resourceId: 'sched', resource: { id: 'inv' } })).toBe('inv');
    expect(resourceIdOf({ ...base, resourceId: 'inv' })).toBe('inv');
    expect(resourceIdOf({ ...base })).toBeUndefined();
  });
  it('is stable for the same (type, id, updatedAt) whatever the other bytes or signature time, differs across versions, and is kept a week', () => {
    const a = { ...base, resource: { id: 'inv', updatedAt: 't1' } };
    const k1 = deliveryKey(a, raw(a), 1_000);
    // Sequence's retry of the same event, signed again later, is the same delivery.
    expect(deliveryKey(a, raw({ ...a, noise: true }), 61_000)).toEqual(k1);
    expect(deliveryKey({ ...base, resource: { id: 'inv', updatedAt: 't2' } }, raw(a), 1_000).key).not.toBe(k1.key);
    expect(deliveryKey({ ...a, notificationType: 'INVOICE_CREATED' }, raw(a), 1_000).key).not.toBe(k1.key);
    expect(k1.key).toMatch(/^[0-9a-f]{64}$/);
    expect(k1.ttlSeconds).toBe(VERSIONED_DELIVERY_TTL_SECONDS);
  });

  describe('without updatedAt (customers)', () => {
    const c = { ...base, notificationType: 'CUSTOMER_UPDATED', resource: { id: 'c', taxStatus: 'TAXED' } };
    const b = { ...c, resource: { id: 'c', taxStatus: 'TAX_EXEMPT' } };

    it('the same signed request (same bytes, same signature timestamp) is the same delivery', () => {
      expect(deliveryKey(c, raw(c), 1_000)).toEqual(deliveryKey(c, raw(c), 1_000));
    });

    it('A → B → A: the third event has the first body but another signature timestamp, so another key', () => {
      const first = deliveryKey(c, raw(c), 1_000).key;
      const second = deliveryKey(b, raw(b), 2_000).key;
      const third = deliveryKey(c, raw(c), 3_000).key;
      expect(new Set([first, second, third]).size).toBe(3);
    });

    it('other bytes at the same timestamp are another delivery', () => {
      expect(deliveryKey(c, raw(c), 1_000).key).not.toBe(deliveryKey(b, raw(b), 1_000).key);
    });

    it('is kept only as long as the signed request could be accepted again (± 5 min tolerance, plus a margin)', () => {
      const { ttlSeconds } = deliveryKey(c, raw(c), 1_000);
      expect(ttlSeconds).toBe(SIGNED_REQUEST_DELIVERY_TTL_SECONDS);
      expect(ttlSeconds).toBeGreaterThanOrEqual(10 * 60);
      expect(ttlSeconds).toBeLessThanOrEqual(30 * 60);
    });
  });
});
