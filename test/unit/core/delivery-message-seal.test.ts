import { randomBytes } from 'node:crypto';
import { isSealedBy, sealDeliveryMessage } from '../../../lambdas/core/delivery-message-seal';

const key = randomBytes(32);
const message = {
  deliveryId: 'dlv_1',
  merchantId: 'mer_a',
  endpointId: 'ep_1',
  subjectId: 'req_1',
  eventType: 'request.succeeded',
  eventTimestamp: '2026-12-05T00:00:00.000Z',
  round: 1,
  payload: '{"type":"request.succeeded"}',
};

describe('a sealed delivery message', () => {
  it('is accepted under the key that sealed it, after a JSON round trip', () => {
    const travelled = JSON.parse(JSON.stringify(sealDeliveryMessage(message, key))) as object;
    expect(isSealedBy(travelled, key)).toBe(true);
  });

  it('does not depend on the order of its fields', () => {
    const sealed = sealDeliveryMessage(message, key);
    const reordered = Object.fromEntries(Object.entries(sealed).reverse());
    expect(isSealedBy(reordered, key)).toBe(true);
  });

  it('is refused under any other key', () => {
    expect(isSealedBy(sealDeliveryMessage(message, key), randomBytes(32))).toBe(false);
  });

  it('is refused when there is no key yet (nothing can have been sealed)', () => {
    expect(isSealedBy(sealDeliveryMessage(message, key), undefined)).toBe(false);
  });

  it.each([
    ['payload', '{"type":"request.succeeded","forged":true}'],
    ['merchantId', 'mer_b'],
    ['endpointId', 'ep_2'],
    ['subjectId', 'req_2'],
    ['deliveryId', 'dlv_2'],
    ['eventType', 'request.failed'],
    ['round', 2],
  ])('is refused once its %s changed', (field, value) => {
    const sealed = sealDeliveryMessage(message, key);
    expect(isSealedBy({ ...sealed, [field]: value }, key)).toBe(false);
  });

  it('is refused when a field was added after sealing', () => {
    expect(isSealedBy({ ...sealDeliveryMessage(message, key), attemptsBefore: 5 }, key)).toBe(false);
  });

  it.each([undefined, '', 'not base64 at all!', 12, 'A'.repeat(43)])('is refused with the seal %p', (seal) => {
    expect(isSealedBy({ ...message, seal }, key)).toBe(false);
  });

  it('is sealed anew, not kept, when a sealed message is sent again changed', () => {
    const first = sealDeliveryMessage(message, key);
    const again = sealDeliveryMessage({ ...first, attemptsBefore: 2 }, key);
    expect(isSealedBy(again, key)).toBe(true);
    expect(again.seal).not.toBe(first.seal);
  });
});
