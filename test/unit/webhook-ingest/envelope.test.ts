import { deliveryKey, parseEnvelope, resourceIdOf } from '../../../shared/webhooks/envelope';

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
  it('is stable for the same (type, id, updatedAt) whatever the other bytes, and differs across versions', () => {
    const a = { ...base, resource: { id: 'inv', updatedAt: 't1' } };
    const k1 = deliveryKey(a, raw(a));
    expect(deliveryKey(a, raw({ ...a, noise: true }))).toBe(k1);
    expect(deliveryKey({ ...base, resource: { id: 'inv', updatedAt: 't2' } }, raw(a))).not.toBe(k1);
    expect(deliveryKey({ ...a, notificationType: 'INVOICE_CREATED' }, raw(a))).not.toBe(k1);
    expect(k1).toMatch(/^[0-9a-f]{64}$/);
  });
  it('falls back to the raw body hash without updatedAt (customers)', () => {
    const c = { ...base, notificationType: 'CUSTOMER_UPDATED', resource: { id: 'c' } };
    expect(deliveryKey(c, raw(c))).toBe(deliveryKey(c, raw(c)));
    expect(deliveryKey(c, raw({ ...c, resource: { id: 'c', legalName: 'new' } }))).not.toBe(deliveryKey(c, raw(c)));
  });
});
