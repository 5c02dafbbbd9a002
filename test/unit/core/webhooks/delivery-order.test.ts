import {
  claimOf,
  goingMark,
  isValidOrderingKey,
  orderDecision,
  ORDER_WAIT_BOUND_SECONDS,
  readyHeads,
  ticketOf,
} from '../../../../lambdas/core/webhooks/delivery-order';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const HOUR = 3_600_000;
const pending = (...seqs: number[]) => seqs.map((seq) => ({ seq, deliveryId: `dlv_req_${seq}.ep_a.succeeded` }));

describe('isValidOrderingKey', () => {
  it('takes 1 to 128 printable ASCII characters', () => {
    expect(isValidOrderingKey('customer-42')).toBe(true);
    expect(isValidOrderingKey('a b#c~')).toBe(true);
    expect(isValidOrderingKey('k'.repeat(128))).toBe(true);
  });

  it('refuses an empty key, a longer one, control characters and non-ASCII', () => {
    expect(isValidOrderingKey('')).toBe(false);
    expect(isValidOrderingKey('k'.repeat(129))).toBe(false);
    expect(isValidOrderingKey('tab\there')).toBe(false);
    expect(isValidOrderingKey('caf\u00e9')).toBe(false);
  });
});

describe('orderDecision', () => {
  it('lets the first of a key go, and one whose predecessors all ended', () => {
    expect(orderDecision(1, { open: [], pending: [] }, NOW, NOW)).toEqual({ kind: 'go' });
    expect(orderDecision(7, { open: [9], pending: pending(7, 8) }, NOW, NOW)).toEqual({ kind: 'go' });
  });

  it('holds a delivery while an earlier request of its key is unfinished', () => {
    expect(orderDecision(5, { open: [3, 6], pending: [] }, NOW, NOW)).toEqual({ kind: 'wait', ahead: 3, heldByOpen: true });
  });

  it('holds a delivery while an earlier delivery to its endpoint is pending, naming the nearest', () => {
    expect(orderDecision(5, { open: [], pending: pending(2, 4, 5) }, NOW, NOW)).toEqual({ kind: 'wait', ahead: 4, heldByOpen: false });
  });

  it('keeps waiting until the bound of 36 hours, then releases what is ahead', () => {
    const since = NOW - 36 * HOUR;
    expect(ORDER_WAIT_BOUND_SECONDS).toBe(36 * 3600);
    expect(orderDecision(5, { open: [4], pending: pending(3) }, since + 1, NOW)).toEqual({ kind: 'wait', ahead: 4, heldByOpen: true });
    expect(orderDecision(5, { open: [4, 6], pending: pending(3, 5) }, since, NOW)).toEqual({ kind: 'release', open: [4], pending: pending(3) });
  });
});

describe('readyHeads', () => {
  it('names the lowest pending delivery of each endpoint', () => {
    const other = [{ seq: 2, deliveryId: 'dlv_req_2.ep_b.succeeded' }];
    expect(readyHeads([], [pending(4, 3), other, []])).toEqual([pending(3)[0], other[0]]);
  });

  it('names none that an earlier open request still holds', () => {
    expect(readyHeads([3], [pending(4), pending(2)])).toEqual(pending(2));
  });
});

describe('claimOf', () => {
  it('lets the first message of a delivery that never waited go, and no wake of it', () => {
    expect(claimOf(undefined, 1, undefined)).toEqual({ kind: 'proceed' });
    expect(claimOf(undefined, 1, 'wake-1')).toEqual({ kind: 'stand-down' });
  });

  it('makes every message of a waiting delivery claim it, and lets only the claimant go on', () => {
    expect(claimOf('waiting', 1, 'wake-1')).toEqual({ kind: 'claim', expected: 'waiting' });
    const going = goingMark(1, 'wake-1');
    expect(claimOf(going, 1, 'wake-1')).toEqual({ kind: 'proceed' });
    expect(claimOf(going, 1, 'recheck-2')).toEqual({ kind: 'stand-down' });
    expect(claimOf(going, 1, undefined)).toEqual({ kind: 'stand-down' });
  });

  it('lets a newer round claim over an older round\u2019s claimant, never the reverse', () => {
    expect(claimOf(goingMark(1, 'wake-1'), 2, undefined)).toEqual({ kind: 'claim', expected: goingMark(1, 'wake-1') });
    expect(claimOf(goingMark(2, undefined), 1, 'wake-1')).toEqual({ kind: 'stand-down' });
  });
});

describe('ticketOf', () => {
  it('is the key and number of a numbered request, and nothing for others', () => {
    expect(ticketOf({ orderingKey: 'k', orderingSeq: 3 })).toEqual({ key: 'k', seq: 3 });
    expect(ticketOf({ orderingKey: 'k' })).toBeUndefined();
    expect(ticketOf({})).toBeUndefined();
  });
});
