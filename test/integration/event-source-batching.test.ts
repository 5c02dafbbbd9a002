import { GetQueueAttributesCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { dynamoClient } from '../../lambdas/adapters/aws-clients';
import { DynamoWebhookEndpointStore } from '../../lambdas/adapters/dynamo-webhook-endpoint-store';
import { deliveryIdOf } from '../../lambdas/core/webhooks/delivery';
import { generateSigningSecret } from '../../lambdas/core/webhooks/endpoint';
import { type DeliveryMessage } from '../../lambdas/core/webhooks/delivery-message';
import { recordInvocations } from '../../lib/local/lambda-context';
import { SqsEventSource } from '../../lib/local/sqs-event-source';
import { queues, type QueueSpec } from '../../lib/topology';
import { provisionForTest } from '../support/endpoints';
import { startReceiver, type WebhookReceiver } from '../support/webhook-receiver';

/**
 * Lambda's SQS event source as AWS documents it for a standard queue: with a batching window it
 * invokes once the batch is full, the window has passed since the batch's first record, or the
 * next record would take the batch's payload past 6 MB.
 */
const ENDPOINT_ID = 'wh_batching';
const SIX_MB = 6 * 1024 * 1024;

let sqs: SQSClient;
let queue: { url: string; arn: string };
let receiver: WebhookReceiver;
/** Records per invocation of the consumer, in the order the invocations ended. */
let batches: number[] = [];
let stopRecording: () => void;
let sequence = 0;

beforeAll(async () => {
  const resources = await provisionForTest('event-source-batching');
  process.env.HERALD_LOCAL_WEBHOOK_HOSTS = '127.0.0.1';
  queue = { url: resources.queues.deliveries.url, arn: resources.queues.deliveries.arn };
  sqs = new SQSClient({ endpoint: resources.endpoints.sqs });
  receiver = await startReceiver(() => ({ status: 204 }));
  const endpoints = new DynamoWebhookEndpointStore(dynamoClient(), resources.tableName, 0, resources.secretsTableName);
  const at = new Date().toISOString();
  await endpoints.create(
    { id: ENDPOINT_ID, merchantId: 'mer_batching', url: receiver.url, status: 'enabled', secret: { secret: generateSigningSecret(), createdAt: at }, version: 1, createdAt: at, updatedAt: at },
    20,
  );
  stopRecording = recordInvocations(({ functionName, event }) => {
    if (functionName === 'deliver') batches.push((event as SQSEvent).Records.length);
  });
});

afterAll(async () => {
  stopRecording();
  await receiver.close();
  sqs.destroy();
});

beforeEach(() => {
  batches = [];
});

function message(payload = '{}'): string {
  const subjectId = `req_batching_${sequence++}`;
  const delivery: DeliveryMessage = {
    deliveryId: deliveryIdOf(subjectId, ENDPOINT_ID, 'request.succeeded'),
    merchantId: 'mer_batching',
    endpointId: ENDPOINT_ID,
    subjectId,
    eventType: 'request.succeeded',
    eventTimestamp: new Date().toISOString(),
    round: 1,
    payload,
  };
  return JSON.stringify(delivery);
}

async function send(bodies: string[]): Promise<void> {
  if (bodies.some((body) => body.length > 20_000)) {
    // A batch's bodies share SQS's per-request payload limit: large ones go one at a time.
    for (const body of bodies) await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body, MessageGroupId: ENDPOINT_ID }));
    return;
  }
  for (let start = 0; start < bodies.length; start += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: bodies.slice(start, start + 10).map((body, i) => ({ Id: String(i), MessageBody: body, MessageGroupId: ENDPOINT_ID })),
      }),
    );
  }
}

async function until(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out; batches so far: ${JSON.stringify(batches)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const total = () => batches.reduce((sum, n) => sum + n, 0);

async function withSource(spec: Partial<QueueSpec>, run: () => Promise<void>): Promise<void> {
  // One poller and no fairness rule, so that each hand-over is exactly one batch the mapping would make.
  const source = new SqsEventSource(sqs, 'deliveries', { ...queues.deliveries, ...spec }, queue.url, queue.arn, 1, false);
  source.start();
  try {
    await run();
  } finally {
    await source.stop();
  }
}

describe('the local SQS event source with a batching window', () => {
  it('gathers messages sent one by one inside the window into one invocation', async () => {
    await withSource({ maxBatchingWindowSeconds: 5, batchSize: 10 }, async () => {
      for (let i = 0; i < 3; i++) {
        await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: message(), MessageGroupId: ENDPOINT_ID }));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await until(() => total() === 3);
    });
    expect(batches).toEqual([3]);
  }, 90_000);

  it('invokes a full batch of batchSize records without waiting for the window', async () => {
    await withSource({ maxBatchingWindowSeconds: 5, batchSize: 10 }, async () => {
      await send(Array.from({ length: 25 }, () => message()));
      await until(() => total() === 25);
    });
    expect(batches).toEqual([10, 10, 5]);
  }, 90_000);

  it('closes a batch before its records would pass 6 MB and opens the next with the record that did not fit', async () => {
    // 250,000-byte bodies: 25 fit in 6 MB (6,291,456 bytes), the 26th would not.
    const filler = 'x'.repeat(250_000 - message('""').length);
    const bodies = Array.from({ length: 30 }, () => message(JSON.stringify(filler)));
    await withSource({ maxBatchingWindowSeconds: 10, batchSize: 100 }, async () => {
      await send(bodies);
      await until(() => total() === 30);
    });
    expect(Buffer.byteLength(bodies[0]!) * 25).toBeLessThanOrEqual(SIX_MB);
    expect(Buffer.byteLength(bodies[0]!) * 26).toBeGreaterThan(SIX_MB);
    expect(batches).toEqual([25, 5]);
    // Every handled record was deleted, the 25 of the large batch included (10 entries a delete call).
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    expect(Number(Attributes?.ApproximateNumberOfMessages) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible)).toBe(0);
  }, 120_000);

  it('without a window invokes with what one receive brought', async () => {
    await withSource({ maxBatchingWindowSeconds: 0, batchSize: 10 }, async () => {
      await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: message(), MessageGroupId: ENDPOINT_ID }));
      await until(() => total() === 1);
    });
    expect(batches).toEqual([1]);
  }, 60_000);
});
