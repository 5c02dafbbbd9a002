import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDeliveryOrderLedger } from '../../lambdas/adapters/dynamo-delivery-order';
import { DynamoDeliveryStore } from '../../lambdas/adapters/dynamo-delivery-store';
import { dynamoRequestPorts, type DynamoRequestPorts } from '../../lambdas/adapters/dynamo-request-ports';
import { goingMark, MAX_OPEN_PER_ORDERING_KEY } from '../../lambdas/core/webhooks/delivery-order';
import { deliveryIdOf } from '../../lambdas/core/webhooks/delivery';
import { provisionForTest } from '../support/endpoints';
import { storedRequest } from '../support/request-fixtures';
import { firstOutcome, outcomeOver } from '../support/core/webhooks/delivery-transitions';

let dynamo: DynamoDBDocumentClient;
let requests: DynamoRequestPorts;
let deliveries: DynamoDeliveryStore;
let ledger: DynamoDeliveryOrderLedger;

beforeAll(async () => {
  const resources = await provisionForTest('order');
  dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: resources.endpoints.dynamodb }));
  requests = dynamoRequestPorts(dynamo, resources.tableName, 7);
  deliveries = new DynamoDeliveryStore(dynamo, resources.tableName, 7);
  ledger = new DynamoDeliveryOrderLedger(dynamo, resources.tableName, 7);
});

afterAll(() => dynamo.destroy());

async function submitOrdered(id: string, merchantId: string, orderingKey: string) {
  return requests.intake.create(storedRequest(id, { merchantId, orderingKey }), `fp-${id}`);
}

describe('ordered intake', () => {
  it('numbers 20 concurrent submissions to one key 1 to 20 without gaps, each one open', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `req_conc${i}`);
    const outcomes = await Promise.all(ids.map((id) => submitOrdered(id, 'mer_conc', 'key-1')));
    expect(outcomes.every((outcome) => outcome.outcome === 'created')).toBe(true);
    const seqs = (await Promise.all(ids.map((id) => requests.queries.get(id)))).map((request) => request!.orderingSeq);
    expect([...seqs].sort((a, b) => a! - b!)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const standing = await ledger.standing('mer_conc', 'key-1', 'ep_none');
    expect([...standing.open].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('keeps keys and merchants apart, and a replay opens no number', async () => {
    await submitOrdered('req_k1', 'mer_apart', 'k');
    await submitOrdered('req_k2', 'mer_apart', 'k#2');
    await submitOrdered('req_k3', 'mer_apart2', 'k');
    const replay = await submitOrdered('req_k1', 'mer_apart', 'k');
    expect(replay).toMatchObject({ outcome: 'exists', fingerprint: 'fp-req_k1' });
    expect((await ledger.standing('mer_apart', 'k', 'ep')).open).toEqual([1]);
    expect((await ledger.standing('mer_apart', 'k#2', 'ep')).open).toEqual([1]);
    expect((await ledger.standing('mer_apart2', 'k', 'ep')).open).toEqual([1]);
    expect((await requests.queries.get('req_k1'))!.orderingKey).toBe('k');
  });

  it('stores a request without a key as before: no number, nothing in any ledger', async () => {
    await requests.intake.create(storedRequest('req_plain', { merchantId: 'mer_plain' }), 'fp');
    const stored = await requests.queries.get('req_plain');
    expect(stored!.orderingKey).toBeUndefined();
    expect(stored!.orderingSeq).toBeUndefined();
  });

  it(`states the bound of ${MAX_OPEN_PER_ORDERING_KEY} open requests per key`, () => {
    expect(MAX_OPEN_PER_ORDERING_KEY).toBe(1000);
  });
});

describe('DynamoDeliveryOrderLedger', () => {
  const dlv = (n: number, endpoint = 'ep_a') => deliveryIdOf(`req_led${n}`, endpoint, 'request.succeeded');

  it('hands a number over once, to the endpoints its event goes to, and names each endpoint\u2019s head', async () => {
    for (let i = 1; i <= 3; i++) await submitOrdered(`req_led${i}`, 'mer_led', 'key');
    await ledger.handOver('mer_led', { key: 'key', seq: 2 }, [
      { endpointId: 'ep_a', deliveryId: dlv(2) },
      { endpointId: 'ep_b', deliveryId: dlv(2, 'ep_b') },
    ]);
    // Request 1 is still open: it holds both endpoints.
    expect(await ledger.heads('mer_led', 'key')).toEqual([]);

    await ledger.handOver('mer_led', { key: 'key', seq: 1 }, [{ endpointId: 'ep_a', deliveryId: dlv(1) }]);
    // Repeated: changes nothing (the number is no longer open).
    await ledger.handOver('mer_led', { key: 'key', seq: 1 }, [{ endpointId: 'ep_a', deliveryId: dlv(1) }]);
    expect(await ledger.standing('mer_led', 'key', 'ep_a')).toEqual({
      open: [3],
      pending: expect.arrayContaining([
        { seq: 1, deliveryId: dlv(1) },
        { seq: 2, deliveryId: dlv(2) },
      ]),
    });
    const heads = await ledger.heads('mer_led', 'key');
    expect(heads).toHaveLength(2);
    expect(heads).toEqual(expect.arrayContaining([{ seq: 1, deliveryId: dlv(1) }, { seq: 2, deliveryId: dlv(2, 'ep_b') }]));

    await ledger.settle('mer_led', 'key', 'ep_a', [{ seq: 1, deliveryId: dlv(1) }]);
    await ledger.settle('mer_led', 'key', 'ep_a', [{ seq: 1, deliveryId: dlv(1) }]);
    expect((await ledger.standing('mer_led', 'key', 'ep_a')).pending).toEqual([{ seq: 2, deliveryId: dlv(2) }]);

    await ledger.withdraw('mer_led', 'key', [3]);
    expect((await ledger.standing('mer_led', 'key', 'ep_a')).open).toEqual([]);
  });

  it('lets exactly one of several messages claim a waiting delivery', async () => {
    const id = deliveryIdOf('req_claim', 'ep_c', 'request.succeeded');
    const at = '2026-06-01T12:00:00.000Z';
    await deliveries.apply(
      firstOutcome(
        { id, merchantId: 'mer_claim', endpointId: 'ep_c', subjectId: 'req_claim', eventType: 'request.succeeded', eventTimestamp: at, createdAt: at },
        { kind: 'reschedule', attempts: [], nextAttemptAt: at },
        at,
      ),
    );
    await ledger.markWaiting(id, 1);
    expect((await deliveries.get(id))!.orderWait).toBe('waiting');

    const wins = await Promise.all(['a', 'b', 'c', 'd'].map((token) => ledger.claim(id, 1, 'waiting', goingMark(1, token))));
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect((await deliveries.get(id))!.orderWait).toMatch(/^going:1:[abcd]$/);
    // A finished delivery is never marked waiting again.
    await deliveries.apply(outcomeOver((await deliveries.get(id))!, { kind: 'deliver', attempts: [] }, at));
    await ledger.markWaiting(id, 1);
    expect((await deliveries.get(id))!.orderWait).toMatch(/^going:1:/);
  });
});
