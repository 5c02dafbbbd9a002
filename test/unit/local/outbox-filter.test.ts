import { admits } from '../../../lib/local/outbox';

const operations = { merchantId: ['mer_a'], audience: ['operations'], channel: ['email'], eventType: ['request.failed'] };

it('admits a message whose attributes match every key of the policy', () => {
  expect(admits(operations, { merchantId: 'mer_a', audience: 'operations', channel: 'email', eventType: 'request.failed' })).toBe(true);
  expect(admits(operations, { merchantId: 'mer_b', audience: 'operations', channel: 'email', eventType: 'request.failed' })).toBe(false);
  expect(admits(operations, { merchantId: 'mer_a', audience: 'operations', channel: 'email' })).toBe(false);
});

it('admits what any clause of an $or admits', () => {
  const shared = { $or: [operations, { recipient: ['ada@example.com'] }] };
  expect(admits(shared, { recipient: 'ada@example.com', eventType: 'request.succeeded' })).toBe(true);
  expect(admits(shared, { recipient: 'bob@example.com' })).toBe(false);
});

it('reports operators it does not evaluate instead of guessing', () => {
  expect(admits({ eventType: [{ prefix: 'request.' }] }, { eventType: 'request.failed' })).toBe('unsupported');
});
