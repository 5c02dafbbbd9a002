import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { dynamoClient } from '../../lambdas/adapters/aws-clients';
import { DynamoWebhookEndpointStore } from '../../lambdas/adapters/dynamo-webhook-endpoint-store';
import { deliveryIdOf } from '../../lambdas/core/webhooks/delivery';
import { generateSigningSecret } from '../../lambdas/core/webhooks/endpoint';
import { type DeliveryMessage } from '../../lambdas/core/webhooks/delivery-message';
import { SqsEventSource } from '../../lib/local/sqs-event-source';
import { queues } from '../../lib/topology';
import { provisionForTest } from '../support/endpoints';
import { sealedDeliveryBody } from '../support/sqs-records';
import { startReceiver, type WebhookReceiver } from '../support/webhook-receiver';

let sqs: SQSClient;
let queue: { url: string; arn: string };
let endpoints: DynamoWebhookEndpointStore;
const receivers: WebhookReceiver[] = [];
/** Which endpoint each POST reached, in the order they arrived. */
const arrivals: string[] = [];

beforeAll(async () => {
  const resources = await provisionForTest('fair-event-source');
  process.env.HERALD_LOCAL_WEBHOOK_HOSTS = '127.0.0.1';
  queue = { url: resources.queues.deliveries.url, arn: resources.queues.deliveries.arn };
  sqs = new SQSClient({ endpoint: resources.endpoints.sqs });
  endpoints = new DynamoWebhookEndpointStore(dynamoClient(), resources.tableName, 0, resources.secretsTableName);
});

afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
  sqs.destroy();
});

async function endpointNamed(id: string): Promise<void> {
  const receiver = await startReceiver(() => {
    arrivals.push(id);
    return { status: 200 };
  });
  receivers.push(receiver);
  const at = new Date().toISOString();
  await endpoints.create({ id, merchantId: 'mer_fair', url: receiver.url, status: 'enabled', secret: { secret: generateSigningSecret(), createdAt: at }, version: 1, createdAt: at, updatedAt: at }, 20);
}

async function sendDeliveries(endpointId: string, from: number, count: number): Promise<void> {
  const messages: DeliveryMessage[] = Array.from({ length: count }, (_, i) => ({
    deliveryId: deliveryIdOf(`req_fair_${endpointId}_${from + i}`, endpointId, 'request.succeeded'),
    merchantId: 'mer_fair',
    endpointId,
    subjectId: `req_fair_${endpointId}_${from + i}`,
    eventType: 'request.succeeded',
    eventTimestamp: new Date().toISOString(),
    round: 1,
    payload: '{}',
  }));
  // Sealed as Herald's own queue adapter seals them: the deliver worker posts nothing else.
  const bodies = await Promise.all(messages.map((message) => sealedDeliveryBody(message)));
  for (let start = 0; start < bodies.length; start += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: bodies.slice(start, start + 10).map((body, i) => ({ Id: String(i), MessageBody: body, MessageGroupId: endpointId })),
      }),
    );
  }
}

async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the deliveries');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * One poller, so that the order of handling is the order of hand-over. The busy endpoint works
 * first and so holds all the recent processing time (noisy by AWS's rule); then it queues 20
 * more, and a quiet endpoint queues 5 behind them.
 */
async function orderOfArrival(fair: boolean, busy: string, quiet: string): Promise<string[]> {
  const source = new SqsEventSource(sqs, 'deliveries', queues.deliveries, queue.url, queue.arn, 1, fair);
  source.start();
  try {
    await sendDeliveries(busy, 0, 3);
    await until(() => arrivals.filter((id) => id === busy).length === 3);
    await sendDeliveries(busy, 3, 20);
    await sendDeliveries(quiet, 0, 5);
    await until(() => arrivals.filter((id) => id === busy).length === 23 && arrivals.filter((id) => id === quiet).length === 5);
  } finally {
    await source.stop();
  }
  return arrivals.filter((id) => id === busy || id === quiet).slice(3);
}

describe('the local event source of a fair queue', () => {
  it('hands a quiet endpoint’s deliveries over before a noisy endpoint’s backlog queued ahead of them', async () => {
    await endpointNamed('ep_fair_busy');
    await endpointNamed('ep_fair_quiet');
    const order = await orderOfArrival(true, 'ep_fair_busy', 'ep_fair_quiet');
    expect(order.slice(0, 5)).toEqual(Array(5).fill('ep_fair_quiet'));
  }, 60_000);

  it('without the rule, serves them in arrival order: the quiet endpoint waits behind the backlog', async () => {
    await endpointNamed('ep_unfair_busy');
    await endpointNamed('ep_unfair_quiet');
    const order = await orderOfArrival(false, 'ep_unfair_busy', 'ep_unfair_quiet');
    expect(order.slice(-5)).toEqual(Array(5).fill('ep_unfair_quiet'));
  }, 60_000);
});
