import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { DynamoNotificationLedger } from '../../lambdas/adapters/dynamo-notification-store';
import { dynamoRequestPorts } from '../../lambdas/adapters/dynamo-request-ports';
import { DynamoDeliveryStore } from '../../lambdas/adapters/dynamo-delivery-store';
import { DynamoWebhookEndpointStore } from '../../lambdas/adapters/dynamo-webhook-endpoint-store';
import type { NotificationLedger } from '../../lambdas/core/notifications/ports';
import type { NotificationSlot } from '../../lambdas/core/notifications/notification';
import { applyOnce, decideAndApply } from '../../lambdas/core/requests/apply-decision';
import { claimRequest } from '../../lambdas/core/requests/claim-request';
import { requestIdFor } from '../../lambdas/core/requests/request-id';
import type { DeliveryStore, WebhookEndpointStore } from '../../lambdas/core/webhooks/ports';
import type { RequestStatusReader } from '../../lambdas/core/requests/ports';
import type { HeraldRequest } from '../../lambdas/core/requests/request';
import type { RequestEventType } from '../../lambdas/core/webhooks/endpoint';
import { webhookDefaults } from '../../lambdas/settings/webhooks';
import { CALLBACK_TARGET_ID } from '../../lambdas/core/webhooks/callbacks';
import { deliveryIdOf, type DeliveryAttempt, type NewDelivery } from '../../lambdas/core/webhooks/delivery';
import { generateSigningSecret, type WebhookEndpoint } from '../../lambdas/core/webhooks/endpoint';
import { provisionForTest } from '../support/endpoints';
import { InMemoryNotificationLedger } from '../support/core/notifications/in-memory-ports';
import { InMemoryRequestStatusReader, inMemoryRequestPorts, type RequestPorts } from '../support/core/requests/in-memory-ports';
import { InMemoryDeliveryStore, InMemoryWebhookEndpointStore } from '../support/core/webhooks/in-memory-ports';
import { firstOutcome, outcomeOver, transitionOf } from '../support/core/webhooks/delivery-transitions';
import { storedRequest } from '../support/request-fixtures';

/**
 * The in-memory ports stand in for the DynamoDB adapters in the fast use-case tests, so they must
 * refuse what the adapters refuse. Each scenario here runs against both, on DynamoDB Local.
 */

interface Ports {
  readonly requests: RequestPorts;
  readonly status: RequestStatusReader;
  readonly endpoints: WebhookEndpointStore;
  readonly deliveries: DeliveryStore;
  readonly ledger: NotificationLedger;
}

let dynamo: DynamoDBDocumentClient;
let tableName: string;
let secretsTableName: string;

beforeAll(async () => {
  const resources = await provisionForTest('contracts');
  tableName = resources.tableName;
  secretsTableName = resources.secretsTableName;
  dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: resources.endpoints.dynamodb }));
});

afterAll(() => dynamo?.destroy());

const implementations: [string, () => Ports][] = [
  [
    'in memory',
    () => {
      const requests = inMemoryRequestPorts();
      const deliveries = new InMemoryDeliveryStore();
      const ledger = new InMemoryNotificationLedger();
      return { requests, status: new InMemoryRequestStatusReader(requests.queries, deliveries, ledger), endpoints: new InMemoryWebhookEndpointStore(), deliveries, ledger };
    },
  ],
  [
    'DynamoDB',
    () => {
      const requests = dynamoRequestPorts(dynamo, tableName, 30);
      return {
        requests,
        status: requests.queries,
        endpoints: new DynamoWebhookEndpointStore(dynamo, tableName, 0, secretsTableName),
        deliveries: new DynamoDeliveryStore(dynamo, tableName),
        ledger: new DynamoNotificationLedger(dynamo, tableName, 30),
      };
    },
  ],
];

/** Fresh ids per scenario: the DynamoDB table is shared by every scenario of this file. */
const unique = (prefix: string) => `${prefix}_${randomBytes(6).toString('hex')}`;
const NOW = new Date();
const later = (ms: number) => new Date(NOW.getTime() + ms);

/** A request as submitted under a key: its id derives from (merchant, key), as the submit use case derives it. */
function submission(merchantId: string, key: string, fingerprint = 'f1') {
  const request = storedRequest(requestIdFor('contract-key', merchantId, key), { merchantId, idempotencyKey: key, createdAt: NOW.toISOString() });
  return { request, fingerprint };
}

function endpoint(merchantId: string): WebhookEndpoint {
  const at = NOW.toISOString();
  return { id: unique('ep'), merchantId, url: 'https://hooks.example.com/x', status: 'enabled', secret: { secret: generateSigningSecret(), createdAt: at }, version: 1, createdAt: at, updatedAt: at };
}

function delivery(): NewDelivery {
  const subjectId = unique('req');
  const endpointId = unique('ep');
  const at = NOW.toISOString();
  return {
    id: deliveryIdOf(subjectId, endpointId, 'request.succeeded'),
    merchantId: 'mer_a',
    endpointId,
    subjectId,
    eventType: 'request.succeeded',
    eventTimestamp: at,
    createdAt: at,
  };
}

const failedAttempt = (attempt: number): DeliveryAttempt => ({ at: NOW.toISOString(), attempt, status: 500, latencyMs: 12 });

/** A delivery whose first attempt failed: pending in round 1, due again at `due`. */
async function retrying(deliveries: DeliveryStore, fresh: NewDelivery, due: string): Promise<void> {
  expect(await deliveries.apply(firstOutcome(fresh, { kind: 'reschedule', attempts: [failedAttempt(1)], nextAttemptAt: due }, NOW.toISOString()))).toBeDefined();
}

describe.each(implementations)('request store (%s)', (_name, make) => {
  let ports: Ports;
  beforeEach(() => {
    ports = make();
  });

  it('takes an idempotency key once per merchant', async () => {
    const merchant = unique('mer');
    const first = submission(merchant, 'k1');
    const replay = submission(merchant, 'k1', 'f2');
    const elsewhere = submission(unique('mer'), 'k1');

    expect(await ports.requests.intake.create(first.request, first.fingerprint)).toEqual({ outcome: 'created' });
    expect(await ports.requests.intake.create(replay.request, replay.fingerprint)).toMatchObject({ outcome: 'exists', request: { id: first.request.id }, fingerprint: 'f1' });
    expect(await ports.requests.intake.create(elsewhere.request, elsewhere.fingerprint)).toEqual({ outcome: 'created' });
    expect(await ports.requests.queries.get(first.request.id)).toMatchObject({ merchantId: merchant, version: 1 });
  });

  it('shows a request only to its own merchant: another merchant\'s read finds nothing', async () => {
    const owner = unique('mer');
    const { request, fingerprint } = submission(owner, 'k1');
    await ports.requests.intake.create(request, fingerprint);

    expect(await ports.requests.queries.getForMerchant(owner, request.id)).toMatchObject({ id: request.id, merchantId: owner });
    expect(await ports.requests.queries.getForMerchant(unique('mer'), request.id)).toBeUndefined();
  });

  it('lets one claim hold a request until its lease ends, then lets the next take it over', async () => {
    const { request, fingerprint } = submission(unique('mer'), 'k1');
    await ports.requests.intake.create(request, fingerprint);

    const claimed = await claimRequest(ports.requests.lifecycle, request.id, { leaseMs: 60_000, maxAttempts: 5 }, 0, NOW);
    expect(claimed).toMatchObject({ outcome: 'claimed', request: { status: 'processing', attempts: 1 } });
    expect(await claimRequest(ports.requests.lifecycle, request.id, { leaseMs: 60_000, maxAttempts: 5 }, 0, later(1_000))).toMatchObject({ outcome: 'lost', current: { status: 'processing' } });
    expect(await claimRequest(ports.requests.lifecycle, request.id, { leaseMs: 60_000, maxAttempts: 5 }, 1, later(120_000))).toMatchObject({ outcome: 'claimed', request: { attempts: 2 } });
  });

  it('refuses to finish an attempt whose lease another claim took over', async () => {
    const { request, fingerprint } = submission(unique('mer'), 'k1');
    await ports.requests.intake.create(request, fingerprint);
    const first = await claimRequest(ports.requests.lifecycle, request.id, { leaseMs: 1_000, maxAttempts: 5 }, 0, NOW);
    await claimRequest(ports.requests.lifecycle, request.id, { leaseMs: 60_000, maxAttempts: 5 }, 1, later(5_000));
    if (first.outcome !== 'claimed') throw new Error('the first claim should win');

    expect(await applyOnce(ports.requests.lifecycle, first.request, { kind: 'succeed', result: { late: true } }, later(6_000))).toBeUndefined();
    expect(await ports.requests.queries.get(request.id)).toMatchObject({ status: 'processing', attempts: 2 });
  });

  it('cancels only its owner\'s request, and only before a claim', async () => {
    const merchant = unique('mer');
    const open = submission(merchant, 'k1');
    const started = submission(merchant, 'k2');
    await ports.requests.intake.create(open.request, open.fingerprint);
    await ports.requests.intake.create(started.request, started.fingerprint);
    await claimRequest(ports.requests.lifecycle, started.request.id, { leaseMs: 60_000, maxAttempts: 5 }, 0, NOW);

    const cancel = (owner: string, id: string) => decideAndApply(ports.requests.lifecycle, { id, status: 'accepted', attempts: 0 }, { kind: 'cancel', merchantId: owner }, NOW, { maxWrites: 2 });
    expect(await cancel(unique('mer'), open.request.id)).toMatchObject({ outcome: 'refused', refusal: { reason: 'not-owner' } });
    expect(await cancel(merchant, started.request.id)).toMatchObject({ outcome: 'refused', refusal: { reason: 'wrong-status' }, current: { status: 'processing' } });
    expect(await cancel(merchant, open.request.id)).toMatchObject({ outcome: 'applied', request: { status: 'cancelled' } });
  });

  it('ends a request whose every attempt started and none finished, once its last lease ran out', async () => {
    const { request, fingerprint } = submission(unique('mer'), 'k1');
    await ports.requests.intake.create(request, fingerprint);
    const claim = await claimRequest(ports.requests.lifecycle, request.id, { leaseMs: 1_000, maxAttempts: 1 }, 0, NOW);
    if (claim.outcome !== 'claimed') throw new Error('the claim should win');
    const held = (await ports.requests.queries.get(request.id))!;

    expect(await applyOnce(ports.requests.lifecycle, held, { kind: 'exhaust', maxAttempts: 1, redriveGeneration: 0 }, NOW)).toBeUndefined();
    const exhausted = await applyOnce(ports.requests.lifecycle, held, { kind: 'exhaust', maxAttempts: 1, redriveGeneration: 0 }, later(2_000));
    expect(exhausted).toMatchObject({ status: 'failed', attempts: 1, failedAtRedrive: 0, error: { code: 'attempts-exhausted', retryable: true } });
    expect(exhausted).not.toHaveProperty('leaseUntil');
    expect(await applyOnce(ports.requests.lifecycle, held, { kind: 'exhaust', maxAttempts: 1, redriveGeneration: 0 }, later(3_000))).toBeUndefined();
  });

  it('releases a held lease without a history row, bumping the version, and lists unfinished work', async () => {
    const { request, fingerprint } = submission(unique('mer'), 'k1');
    await ports.requests.intake.create(request, fingerprint);
    const claim = await claimRequest(ports.requests.lifecycle, request.id, { leaseMs: 60_000, maxAttempts: 5 }, 0, NOW);
    if (claim.outcome !== 'claimed') throw new Error('the claim should win');
    const held = (await ports.requests.queries.get(request.id))!;

    const released = await applyOnce(ports.requests.lifecycle, held, { kind: 'release-lease' }, later(1_000));

    expect(released).toMatchObject({ status: 'processing', attempts: 1, version: held.version + 1, leaseUntil: later(1_000).toISOString() });
    expect(released!.history).toEqual(held.history);
    expect(await applyOnce(ports.requests.lifecycle, held, { kind: 'release-lease' }, later(2_000))).toBeUndefined();
    const unfinished = await ports.requests.sweeper.findUnfinished('processing', 1_000);
    expect(unfinished.map((found) => found.id)).toContain(request.id);
  });

  it('reopens a failed request for a redrive once, however many copies try', async () => {
    const { request, fingerprint } = submission(unique('mer'), 'k1');
    await ports.requests.intake.create(request, fingerprint);
    const claim = await claimRequest(ports.requests.lifecycle, request.id, { leaseMs: 60_000, maxAttempts: 5 }, 0, NOW);
    if (claim.outcome !== 'claimed') throw new Error('the claim should win');
    const failed = (await applyOnce(ports.requests.lifecycle, claim.request, { kind: 'fail', error: { code: 'timeout', message: 'slow', retryable: true }, reason: 'exhausted' }, NOW))!;

    expect(await applyOnce(ports.requests.lifecycle, failed, { kind: 'reopen', generation: 1 }, NOW)).toMatchObject({ status: 'accepted', attempts: 0, redriveGeneration: 1 });
    expect(await applyOnce(ports.requests.lifecycle, failed, { kind: 'reopen', generation: 1 }, NOW)).toBeUndefined();
  });

  it('lists only its own merchant\'s requests, filtered by status, a page at a time', async () => {
    const merchant = unique('mer');
    const mine = [submission(merchant, 'k1'), submission(merchant, 'k2'), submission(merchant, 'k3')];
    const theirs = submission(unique('mer'), 'k1');
    for (const { request, fingerprint } of [...mine, theirs]) await ports.requests.intake.create(request, fingerprint);
    await claimRequest(ports.requests.lifecycle, mine[0]!.request.id, { leaseMs: 60_000, maxAttempts: 5 }, 0, NOW);

    const all = await ports.requests.queries.listForMerchant(merchant, { limit: 10 });
    expect(all.requests.map((r) => r.id).sort()).toEqual(mine.map((m) => m.request.id).sort());
    const accepted = await ports.requests.queries.listForMerchant(merchant, { status: 'accepted', limit: 10 });
    expect(accepted.requests.map((r) => r.id).sort()).toEqual([mine[1]!.request.id, mine[2]!.request.id].sort());

    const first = await ports.requests.queries.listForMerchant(merchant, { limit: 2 });
    expect(first.requests).toHaveLength(2);
    expect(first.next).toBeDefined();
    const rest = await ports.requests.queries.listForMerchant(merchant, { limit: 2, after: first.next });
    expect([...first.requests, ...rest.requests].map((r) => r.id).sort()).toEqual(mine.map((m) => m.request.id).sort());
  });

  it('shows the sweeper requests never enqueued and leases run out, and keeps a resend only on a request still accepted', async () => {
    const merchant = unique('mer');
    const unqueued = submission(merchant, 'k1');
    const enqueued = submission(merchant, 'k2');
    const leased = submission(merchant, 'k3');
    await ports.requests.intake.create(unqueued.request, unqueued.fingerprint);
    await ports.requests.intake.create({ ...enqueued.request, enqueuedAt: later(1_000).toISOString() }, enqueued.fingerprint);
    await ports.requests.intake.create(leased.request, leased.fingerprint);
    await claimRequest(ports.requests.lifecycle, leased.request.id, { leaseMs: 1_000, maxAttempts: 5 }, 0, NOW);
    const ours = (found: readonly { id: string }[]) => found.map((r) => r.id).filter((id) => [unqueued, enqueued, leased].some((m) => m.request.id === id));
    const stuckQuery = { changedBefore: later(60_000).toISOString(), enqueuedBefore: later(500).toISOString(), leaseEndedBefore: later(60_000).toISOString(), claimedBefore: later(50_000).toISOString(), limit: 1_000 };

    const stuck = await ports.requests.sweeper.findStuck(stuckQuery);
    expect(ours(stuck.unqueued)).toEqual([unqueued.request.id]);
    expect(ours(stuck.leaseExpired)).toEqual([leased.request.id]);
    // Still held: the lease (1 s from NOW) has not ended at NOW + 500 ms.
    expect(ours((await ports.requests.sweeper.findStuck({ ...stuckQuery, leaseEndedBefore: later(500).toISOString() })).leaseExpired)).toEqual([]);

    await ports.requests.sweeper.markResent(unqueued.request.id, later(2_000).toISOString());
    await ports.requests.sweeper.markResent(leased.request.id, later(2_000).toISOString());
    expect((await ports.requests.queries.get(unqueued.request.id))?.enqueuedAt).toBe(later(2_000).toISOString());
    expect((await ports.requests.queries.get(leased.request.id))?.enqueuedAt).toBeUndefined();
    expect(ours((await ports.requests.sweeper.findStuck(stuckQuery)).unqueued)).toEqual([]);
  });

  it('fails a request whose last attempt\'s lease ran out as exhausted, once', async () => {
    const { request, fingerprint } = submission(unique('mer'), 'k1');
    await ports.requests.intake.create(request, fingerprint);
    const claim = await claimRequest(ports.requests.lifecycle, request.id, { leaseMs: 1_000, maxAttempts: 1 }, 0, NOW);
    if (claim.outcome !== 'claimed') throw new Error('the claim should win');

    expect(await applyOnce(ports.requests.lifecycle, claim.request, { kind: 'exhaust', maxAttempts: 1, redriveGeneration: 0 }, later(5_000))).toMatchObject({ status: 'failed', attempts: 1 });
    expect(await applyOnce(ports.requests.lifecycle, claim.request, { kind: 'exhaust', maxAttempts: 1, redriveGeneration: 0 }, later(6_000))).toBeUndefined();
    expect(await ports.requests.queries.get(request.id)).toMatchObject({ status: 'failed' });
  });

  it('clears and sets the enqueue mark on the request', async () => {
    const { request, fingerprint } = submission(unique('mer'), 'k1');
    await ports.requests.intake.create({ ...request, enqueuedAt: NOW.toISOString() }, fingerprint);

    await ports.requests.intake.markNotEnqueued(request.id);
    expect((await ports.requests.queries.get(request.id))?.enqueuedAt).toBeUndefined();
    await ports.requests.intake.markEnqueued(request.id, later(1_000).toISOString());
    expect((await ports.requests.queries.get(request.id))?.enqueuedAt).toBe(later(1_000).toISOString());
  });
});

describe.each(implementations)('webhook endpoint store (%s)', (_name, make) => {
  let ports: Ports;
  beforeEach(() => {
    ports = make();
  });

  it('holds a merchant to its endpoint limit, and a deletion frees a place', async () => {
    const merchant = unique('mer');
    const [a, b, c] = [endpoint(merchant), endpoint(merchant), endpoint(merchant)];
    expect(await ports.endpoints.create(a, 2)).toBe('created');
    expect(await ports.endpoints.create(b, 2)).toBe('created');
    expect(await ports.endpoints.create(c, 2)).toBe('limit-reached');
    expect(await ports.endpoints.delete(merchant, a.id)).toBe(true);
    expect(await ports.endpoints.delete(merchant, a.id)).toBe(false);
    expect(await ports.endpoints.create(c, 2)).toBe('created');
  });

  it('replaces an endpoint only at the version the writer read, and disables it once', async () => {
    const merchant = unique('mer');
    const stored = endpoint(merchant);
    await ports.endpoints.create(stored, 5);

    expect(await ports.endpoints.replace({ ...stored, description: 'a', version: 2 }, 1)).toMatchObject({ description: 'a' });
    expect(await ports.endpoints.replace({ ...stored, description: 'b', version: 2 }, 1)).toBeUndefined();
    expect(await ports.endpoints.disable(merchant, stored.id, 'gone', NOW.toISOString())).toMatchObject({ status: 'disabled', version: 3 });
    expect(await ports.endpoints.disable(merchant, stored.id, 'gone', NOW.toISOString())).toBeUndefined();
  });

  it('keeps the start of a run of failures until a success ends it', async () => {
    const merchant = unique('mer');
    const stored = endpoint(merchant);
    await ports.endpoints.create(stored, 5);

    await ports.endpoints.markFailing(merchant, stored.id, '2026-03-01T00:00:00.000Z');
    expect(await ports.endpoints.markFailing(merchant, stored.id, '2026-03-02T00:00:00.000Z')).toMatchObject({ failingSince: '2026-03-01T00:00:00.000Z' });
    await ports.endpoints.markSucceeded(merchant, stored.id, '2026-03-03T00:00:00.000Z');
    expect((await ports.endpoints.get(merchant, stored.id))?.failingSince).toBeUndefined();
  });
});

describe.each(implementations)('delivery store (%s)', (_name, make) => {
  let ports: Ports;
  beforeEach(() => {
    ports = make();
  });

  it('creates a delivery with its first outcome, once, in round 1', async () => {
    const fresh = delivery();
    const due = later(5_000).toISOString();
    const at = later(100).toISOString();

    expect(await ports.deliveries.apply(firstOutcome(fresh, { kind: 'reschedule', attempts: [failedAttempt(1)], nextAttemptAt: due }, at))).toBeDefined();
    // A second copy of the message finds it and records nothing.
    expect(await ports.deliveries.apply(firstOutcome(fresh, { kind: 'deliver', attempts: [{ ...failedAttempt(1), status: 204 }] }, at))).toBeUndefined();
    expect(await ports.deliveries.get(fresh.id)).toEqual({
      ...fresh,
      state: 'pending',
      round: 1,
      attempts: [failedAttempt(1)],
      nextAttemptAt: due,
      updatedAt: at,
    });
  });

  it('puts a delivery created pending in the sweeper\'s view, and one created finished nowhere but its logs', async () => {
    const pending = delivery();
    const delivered = delivery();
    await retrying(ports.deliveries, pending, later(1_000).toISOString());
    expect(await ports.deliveries.apply(firstOutcome(delivered, { kind: 'deliver', attempts: [{ ...failedAttempt(1), status: 204 }] }, NOW.toISOString()))).toBeDefined();

    const overdue = await ports.deliveries.findOverdue(later(2_000).toISOString(), 1_000);
    expect(overdue.map((d) => d.id)).toContain(pending.id);
    expect(overdue.map((d) => d.id)).not.toContain(delivered.id);
    expect(await ports.deliveries.get(delivered.id)).toMatchObject({ state: 'succeeded', round: 1 });
    expect((await ports.deliveries.get(delivered.id))?.nextAttemptAt).toBeUndefined();
    expect((await ports.deliveries.listForSubject(delivered.subjectId)).map((d) => d.id)).toEqual([delivered.id]);
    expect((await ports.deliveries.listForEndpoint(delivered.endpointId, { limit: 10 })).map((d) => d.id)).toEqual([delivered.id]);
  });

  it('records an attempt only in the delivery\'s current round, and only while it is pending', async () => {
    const fresh = delivery();
    await retrying(ports.deliveries, fresh, later(1_000).toISOString());
    const at = NOW.toISOString();
    const read = (await ports.deliveries.get(fresh.id))!;

    // Decided over a round the stored record is not in.
    expect(await ports.deliveries.apply(outcomeOver({ ...read, round: 2 }, { kind: 'deliver', attempts: [] }, at))).toBeUndefined();
    expect(await ports.deliveries.apply(outcomeOver(read, { kind: 'reschedule', nextAttemptAt: later(5_000).toISOString() }, at))).toMatchObject({
      state: 'pending',
      nextAttemptAt: later(5_000).toISOString(),
    });
    expect(await ports.deliveries.apply(outcomeOver(read, { kind: 'die', reason: 'out of attempts' }, at))).toMatchObject({ state: 'dead', reason: 'out of attempts' });
    // Decided while it was pending, written after it died: the condition is lost.
    expect(await ports.deliveries.apply(outcomeOver(read, { kind: 'deliver', attempts: [] }, at))).toBeUndefined();
    expect(await ports.deliveries.get(fresh.id)).toMatchObject({ state: 'dead', reason: 'out of attempts', attempts: [failedAttempt(1)] });
    expect((await ports.deliveries.get(fresh.id))?.nextAttemptAt).toBeUndefined();
  });

  it('starts a new round, and a sweeper\'s holds only if nothing happened since it looked', async () => {
    const fresh = delivery();
    const due = later(500).toISOString();
    await retrying(ports.deliveries, fresh, due);
    const at = later(1_000).toISOString();
    const read = (await ports.deliveries.get(fresh.id))!;

    expect(await ports.deliveries.apply(transitionOf({ ...read, nextAttemptAt: 'a time it never had' }, { kind: 'sweep', at }))).toBeUndefined();
    const sweep = transitionOf(read, { kind: 'sweep', at });
    expect(await ports.deliveries.apply(sweep)).toMatchObject({ round: 2, state: 'pending', nextAttemptAt: at });
    expect(await ports.deliveries.apply(sweep)).toBeUndefined();
    const overdue = await ports.deliveries.findOverdue(later(2_000).toISOString(), 1_000);
    expect(overdue.find((d) => d.id === fresh.id)).toMatchObject({ round: 2, nextAttemptAt: at });
    expect(await ports.deliveries.apply(transitionOf((await ports.deliveries.get(fresh.id))!, { kind: 'resend', at }))).toMatchObject({ round: 3 });
  });

  it('redrives a dead delivery into a new round, due at once, without its reason', async () => {
    const fresh = delivery();
    const at = later(1_000).toISOString();
    expect(await ports.deliveries.apply(firstOutcome(fresh, { kind: 'die', attempts: [failedAttempt(1)], reason: 'no success', redriveGeneration: 1 }, NOW.toISOString()))).toBeDefined();
    const dead = (await ports.deliveries.get(fresh.id))!;
    expect(dead).toMatchObject({ state: 'dead', deadAtRedrive: 1 });

    const next = await ports.deliveries.apply(transitionOf(dead, { kind: 'redrive', at, generation: 2 }));
    expect(next).toMatchObject({ state: 'pending', round: 2, nextAttemptAt: at, attempts: [failedAttempt(1)] });
    expect(next?.reason).toBeUndefined();
    expect((await ports.deliveries.findOverdue(later(2_000).toISOString(), 1_000)).map((d) => d.id)).toContain(fresh.id);
  });

  it('starts no round for a delivery that has no record', async () => {
    const ghost = { ...delivery(), state: 'dead' as const, round: 1, attempts: [], updatedAt: NOW.toISOString() };
    expect(await ports.deliveries.apply(transitionOf(ghost, { kind: 'resend', at: NOW.toISOString() }))).toBeUndefined();
    expect(await ports.deliveries.get(ghost.id)).toBeUndefined();
  });
});

describe.each(implementations)('notification ledger (%s)', (_name, make) => {
  let ports: Ports;
  beforeEach(() => {
    ports = make();
  });

  const slot = (): NotificationSlot => ({ scope: 'request', subjectId: unique('req'), audience: 'requester', channel: 'sms', event: 'request.succeeded' });

  it('lets one sender hold a slot, retries a retryable failure up to the limit, and never sends a sent one again', async () => {
    const taken = slot();
    const options = { maxAttempts: 2 };
    expect(await ports.ledger.begin(taken, '+1***0100', options, NOW)).toEqual({ send: true, attempt: 1 });
    expect(await ports.ledger.begin(taken, '+1***0100', options, NOW)).toEqual({ send: false });

    await ports.ledger.finish(taken, 1, { state: 'failed', reason: 'throttled', retryable: true }, NOW);
    expect(await ports.ledger.begin(taken, '+1***0100', options, NOW)).toEqual({ send: true, attempt: 2 });
    await ports.ledger.finish(taken, 1, { state: 'sent' }, NOW);
    await ports.ledger.finish(taken, 2, { state: 'failed', reason: 'throttled', retryable: true }, NOW);
    expect(await ports.ledger.begin(taken, '+1***0100', options, NOW)).toEqual({ send: false });
    expect(await ports.ledger.listForRequest(taken.subjectId)).toEqual([expect.objectContaining({ state: 'failed', attempts: 2 })]);
  });
});

describe.each(implementations)('request status read (%s)', (_name, make) => {
  let ports: Ports;
  beforeEach(() => {
    ports = make();
  });

  /** A new delivery of one of the request's events to one endpoint (or its callback). */
  const deliveryOf = (request: HeraldRequest, endpointId: string, eventType: RequestEventType): NewDelivery => ({
    id: deliveryIdOf(request.id, endpointId, eventType),
    merchantId: request.merchantId,
    endpointId,
    subjectId: request.id,
    eventType,
    eventTimestamp: NOW.toISOString(),
    createdAt: NOW.toISOString(),
  });

  /** A finished request, its payload and result each over the 4 KB kept inline. */
  async function finishedWithLargeBodies(merchantId: string) {
    const { request, fingerprint } = submission(merchantId, unique('k'));
    const large = { ...request, payload: { text: 'p'.repeat(6_000) } };
    await ports.requests.intake.create(large, fingerprint);
    const claimed = await claimRequest(ports.requests.lifecycle, request.id, { leaseMs: 60_000, maxAttempts: 5 }, 0, NOW);
    if (claimed.outcome !== 'claimed') throw new Error('the claim should win');
    expect(await applyOnce(ports.requests.lifecycle, claimed.request, { kind: 'succeed', result: { text: 'r'.repeat(6_000) } }, later(1_000))).toBeDefined();
    return request;
  }

  it('reads a request with its deliveries and notification slots, and gives another merchant nothing', async () => {
    const owner = unique('mer');
    const request = await finishedWithLargeBodies(owner);
    const other = await finishedWithLargeBodies(owner);
    await ports.deliveries.apply(firstOutcome(deliveryOf(request, unique('ep'), 'request.succeeded'), { kind: 'deliver', attempts: [{ ...failedAttempt(1), status: 204 }] }, NOW.toISOString()));
    await ports.deliveries.apply(firstOutcome(deliveryOf(other, unique('ep'), 'request.succeeded'), { kind: 'deliver', attempts: [{ ...failedAttempt(1), status: 204 }] }, NOW.toISOString()));
    await ports.ledger.begin({ scope: 'request', subjectId: request.id, audience: 'requester', channel: 'sms', event: 'request.succeeded' }, '+1***0100', { maxAttempts: 2 }, NOW);

    const found = await ports.status.getWithRecordsForMerchant(owner, request.id);

    expect(found?.request).toMatchObject({ id: request.id, merchantId: owner, status: 'succeeded', result: { text: 'r'.repeat(6_000) } });
    expect(found?.deliveries).toEqual([expect.objectContaining({ subjectId: request.id, state: 'succeeded' })]);
    expect(found?.notifications).toEqual([expect.objectContaining({ channel: 'sms', event: 'request.succeeded' })]);
    expect(await ports.status.getWithRecordsForMerchant(unique('mer'), request.id)).toBeUndefined();
    expect(await ports.status.getWithRecordsForMerchant(owner, unique('req'))).toBeUndefined();
  });

  it('reads every delivery a request can have, each at its largest, past one page of the table', async () => {
    const request = await finishedWithLargeBodies(unique('mer'));
    const largestAttempts = Array.from({ length: 20 }, (_, i) => ({ ...failedAttempt(i + 1), errorMessage: 'e'.repeat(300), responseBody: 'b'.repeat(1024) }));
    const endpoints = [...Array.from({ length: webhookDefaults.maxEndpointsPerMerchant }, () => unique('ep')), CALLBACK_TARGET_ID];
    for (const endpointId of endpoints) {
      for (const eventType of ['request.succeeded', 'request.failed'] as const) {
        await retrying(ports.deliveries, deliveryOf(request, endpointId, eventType), later(60_000).toISOString());
        const written = await ports.deliveries.get(deliveryIdOf(request.id, endpointId, eventType));
        await ports.deliveries.apply(outcomeOver(written!, { kind: 'reschedule', attempts: largestAttempts, nextAttemptAt: later(120_000).toISOString() }, NOW.toISOString()));
      }
    }

    const found = await ports.status.getWithRecordsForMerchant(request.merchantId, request.id);

    expect(found?.request).toMatchObject({ id: request.id, status: 'succeeded' });
    expect(found?.deliveries).toHaveLength(endpoints.length * 2);
    expect(new Set(found?.deliveries.map((delivery) => delivery.id)).size).toBe(endpoints.length * 2);
  }, 60_000);

  it('reads a request and its delivery beside more payloads kept as items than one page of the table reads', async () => {
    const merchantId = unique('mer');
    const key = unique('k');
    const { request } = submission(merchantId, key);
    // Each replay under the key with another body keeps its payload beside the request (without a
    // bodies bucket) before its write is refused. On AWS the read's first page ends among them and
    // the request item is read by key; DynamoDB Local fills its page after the filter instead.
    const bodies = Array.from({ length: 5 }, (_, i) => ({ ...request, payload: { text: String(i).repeat(250_000) } }));
    for (const [i, body] of bodies.entries()) await ports.requests.intake.create(body, `f${i}`);
    await ports.deliveries.apply(firstOutcome(deliveryOf(request, unique('ep'), 'request.succeeded'), { kind: 'deliver', attempts: [{ ...failedAttempt(1), status: 204 }] }, NOW.toISOString()));

    const found = await ports.status.getWithRecordsForMerchant(merchantId, request.id);

    expect(found?.request).toMatchObject({ id: request.id, merchantId });
    expect(found?.deliveries).toEqual([expect.objectContaining({ subjectId: request.id })]);
    expect(await ports.status.getWithRecordsForMerchant(unique('mer'), request.id)).toBeUndefined();
  }, 60_000);
});
