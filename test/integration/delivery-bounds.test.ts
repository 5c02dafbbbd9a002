import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoClient } from '../../lambdas/adapters/aws-clients';
import { DynamoDeliveryStore } from '../../lambdas/adapters/dynamo-delivery-store';
import { DynamoWebhookEndpointStore } from '../../lambdas/adapters/dynamo-webhook-endpoint-store';
import { keys } from '../../lambdas/adapters/dynamo/keys';
import { deliveryMessageOf } from '../../lambdas/core/webhooks/fan-out-webhooks';
import { ATTEMPT_LOG_LIMIT, DELIVERY_ITEM_BOUND_BYTES, deliveryIdOf, MAX_DELIVERY_ROUNDS, RESPONSE_EXCERPT_BYTES } from '../../lambdas/core/webhooks/delivery';
import { generateSigningSecret } from '../../lambdas/core/webhooks/endpoint';
import { type DeliveryMessage } from '../../lambdas/core/webhooks/delivery-message';
import { ENV } from '../../lambdas/settings/environment';
import { queues } from '../../lib/topology';
import { lambdaContext } from '../support/api-events';
import { provisionForTest } from '../support/endpoints';
import { sealedDeliveryBody, toRecord } from '../support/sqs-records';
import { startReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { decideDelivery } from '../../lambdas/core/webhooks/delivery-lifecycle';

let sqs: SQSClient;
let queue: { url: string; arn: string };
let tableName: string;
let deliveries: DynamoDeliveryStore;
let endpoints: DynamoWebhookEndpointStore;
let receiver: WebhookReceiver;
let deliver: (event: unknown, context: unknown) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

beforeAll(async () => {
  const resources = await provisionForTest('delivery-bounds');
  process.env.HERALD_LOCAL_WEBHOOK_HOSTS = '127.0.0.1';
  // This file drives every attempt of every round by hand; an open circuit would move them to messages it does not follow.
  process.env[ENV.circuitFailureThreshold] = '0';
  tableName = resources.tableName;
  queue = { url: resources.queues.deliveries.url, arn: resources.queues.deliveries.arn };
  sqs = new SQSClient({ endpoint: resources.endpoints.sqs });
  deliveries = new DynamoDeliveryStore(dynamoClient(), tableName);
  endpoints = new DynamoWebhookEndpointStore(dynamoClient(), tableName, 0, resources.secretsTableName);
  // Every answer is an error with 2 KB of body, the most a receiver can make Herald keep.
  receiver = await startReceiver(() => ({ status: 500, body: 'e'.repeat(2048) }));
  deliver = (await import('../../lambdas/handlers/deliver-webhooks')).handler as never;
});

afterAll(async () => {
  await receiver.close();
  sqs.destroy();
});

/** Sends a delivery's message, receives it and runs the worker on it as the last attempt of its round. */
async function lastAttemptOf(message: DeliveryMessage): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: await sealedDeliveryBody({ ...message, payload: '{"type":"request.failed"}' }) }));
  const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }));
  expect(Messages).toHaveLength(1);
  const record = toRecord(Messages[0]!, queue.arn);
  const last = { ...record, attributes: { ...record.attributes, ApproximateReceiveCount: String(queues.deliveries.retry.maxAttempts) } };
  await deliver({ Records: [last] }, lambdaContext());
  // The worker made it visible again for the DLQ; this queue has no consumer, so take it off by hand.
  for (;;) {
    const { Messages: left = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (left.length === 0) return;
    for (const message of left) await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle! }));
  }
}

describe('a delivery item', () => {
  it(`stays under ${DELIVERY_ITEM_BOUND_BYTES} bytes through ${MAX_DELIVERY_ROUNDS} rounds against a receiver answering 2 KB errors`, async () => {
    const at = new Date().toISOString();
    const endpointId = 'ep_bounds';
    await endpoints.create(
      { id: endpointId, merchantId: 'mer_bounds', url: receiver.url, status: 'enabled', secret: { secret: generateSigningSecret(), createdAt: at }, version: 1, createdAt: at, updatedAt: at },
      20,
    );
    const id = deliveryIdOf('req_bounds', endpointId, 'request.failed');
    // Round 1 as the fan-out sends it: a message, and no record until its attempt ends.
    let message: DeliveryMessage = {
      deliveryId: id,
      merchantId: 'mer_bounds',
      endpointId,
      subjectId: 'req_bounds',
      eventType: 'request.failed',
      eventTimestamp: at,
      round: 1,
    };
    expect(await deliveries.get(id)).toBeUndefined();
    for (let round = 1; round <= MAX_DELIVERY_ROUNDS; round++) {
      await lastAttemptOf(message);
      expect(await deliveries.get(id)).toMatchObject({ state: 'dead', round });
      // What recover, a retry or the sweeper does next: a new round.
      const decision = decideDelivery(await deliveries.get(id), { kind: 'resend', at: new Date().toISOString() });
      const next = decision.outcome === 'transition' ? await deliveries.apply(decision.transition) : undefined;
      if (round < MAX_DELIVERY_ROUNDS) message = deliveryMessageOf(next!);
      else expect(next).toBeUndefined();
    }

    expect(receiver.received).toHaveLength(MAX_DELIVERY_ROUNDS);
    const { Item } = await dynamoClient().send(new GetCommand({ TableName: tableName, Key: keys.delivery('req_bounds', endpointId, 'request.failed') }));
    const size = Buffer.byteLength(JSON.stringify(Item), 'utf8');
    expect(size).toBeLessThan(DELIVERY_ITEM_BOUND_BYTES);
    const stored = (await deliveries.get(id))!;
    expect(stored.attempts).toHaveLength(ATTEMPT_LOG_LIMIT);
    expect(stored.attempts.every((attempt) => attempt.responseBody!.length === RESPONSE_EXCERPT_BYTES)).toBe(true);
    expect(stored).toMatchObject({ state: 'dead', round: MAX_DELIVERY_ROUNDS });
    // A hundred rounds of real calls: generous for a loaded machine; no speed is asserted.
  }, 300_000);
});
