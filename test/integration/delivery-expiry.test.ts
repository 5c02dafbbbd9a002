import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoClient } from '../../lambdas/adapters/aws-clients';
import { DynamoDeliveryStore } from '../../lambdas/adapters/dynamo-delivery-store';
import { keys } from '../../lambdas/adapters/dynamo/keys';
import { deliveryIdOf, type DeliveryAttempt, type NewDelivery } from '../../lambdas/core/webhooks/delivery';
import { provisionForTest } from '../support/endpoints';
import { firstOutcome, outcomeOver, transitionOf } from '../support/core/webhooks/delivery-transitions';

/**
 * A delivery record expires with the request it announces: `requestRetentionDays` after its last
 * outcome (docs/data-model.md). Checked on the items DynamoDB Local holds.
 */
const RETENTION_DAYS = 30;
const DAY = 86_400;

let tableName: string;
let store: DynamoDeliveryStore;

beforeAll(async () => {
  ({ tableName } = await provisionForTest('delivery-expiry'));
  store = new DynamoDeliveryStore(dynamoClient(), tableName, RETENTION_DAYS);
});

let n = 0;
function delivery(eventType: 'request.succeeded' | 'webhook.test' = 'request.succeeded'): NewDelivery {
  const subjectId = eventType === 'webhook.test' ? `evt_expiry${++n}` : `req_expiry${++n}`;
  const endpointId = `ep_expiry${n}`;
  return {
    id: deliveryIdOf(subjectId, endpointId, eventType),
    merchantId: 'mer_expiry',
    endpointId,
    subjectId,
    eventType,
    eventTimestamp: '2026-12-01T10:00:00.000Z',
    createdAt: '2026-12-01T10:00:00.000Z',
  };
}

const attempt = (number: number, status: number): DeliveryAttempt =>
  ({ attempt: number, at: '2026-12-01T10:00:00.000Z', status, latencyMs: 5 });

async function expiresAtOf(fresh: NewDelivery): Promise<unknown> {
  const { Item } = await dynamoClient().send(
    new GetCommand({ TableName: tableName, Key: keys.delivery(fresh.subjectId, fresh.endpointId, fresh.eventType), ConsistentRead: true }),
  );
  return Item?.expiresAt;
}

const epoch = (iso: string) => Date.parse(iso) / 1000;

describe('a delivery record', () => {
  it(`expires ${RETENTION_DAYS} days after its first outcome`, async () => {
    const fresh = delivery();
    await store.apply(firstOutcome(fresh, { kind: 'deliver', attempts: [attempt(1, 204)] }, '2026-12-01T10:00:01.000Z'));
    expect(await expiresAtOf(fresh)).toBe(epoch('2026-12-01T10:00:01.000Z') + RETENTION_DAYS * DAY);
  });

  it('moves its expiry to each later outcome', async () => {
    const fresh = delivery();
    const first = await store.apply(firstOutcome(fresh, { kind: 'reschedule', attempts: [attempt(1, 500)], nextAttemptAt: '2026-12-01T10:05:00.000Z' }, '2026-12-01T10:00:01.000Z'));
    const dead = outcomeOver(first!, { kind: 'die', attempts: [attempt(1, 500), attempt(2, 500)], reason: 'attempts exhausted' }, '2026-12-02T09:00:00.000Z');
    expect(await store.apply(dead)).toMatchObject({ state: 'dead' });
    expect(await expiresAtOf(fresh)).toBe(epoch('2026-12-02T09:00:00.000Z') + RETENTION_DAYS * DAY);
  });

  it('expires no sooner than its request-retention after a new round begins', async () => {
    const fresh = delivery();
    const dead = await store.apply(firstOutcome(fresh, { kind: 'die', attempts: [attempt(1, 500)], reason: 'gone' }, '2026-12-01T10:00:01.000Z'));
    expect(await store.apply(transitionOf(dead, { kind: 'resend', at: '2026-12-10T08:00:00.000Z' }))).toMatchObject({ state: 'pending', round: 2 });
    expect(await expiresAtOf(fresh)).toBe(epoch('2026-12-10T08:00:00.000Z') + RETENTION_DAYS * DAY);
  });

  it('of a test event expires the same way', async () => {
    const fresh = delivery('webhook.test');
    await store.apply(firstOutcome(fresh, { kind: 'deliver', attempts: [attempt(1, 200)] }, '2026-12-03T12:00:00.000Z'));
    expect(await expiresAtOf(fresh)).toBe(epoch('2026-12-03T12:00:00.000Z') + RETENTION_DAYS * DAY);
  });
});
