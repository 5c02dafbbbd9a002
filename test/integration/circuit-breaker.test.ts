import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { dynamoClient } from '../../lambdas/adapters/aws-clients';
import { DynamoDeliveryStore } from '../../lambdas/adapters/dynamo-delivery-store';
import { DynamoWebhookEndpointStore } from '../../lambdas/adapters/dynamo-webhook-endpoint-store';
import { EndpointCircuits } from '../../lambdas/core/webhooks/circuit-breaker';
import { deliverWebhook, type DeliverDependencies } from '../../lambdas/core/webhooks/deliver-webhook';
import { deliveryIdOf } from '../../lambdas/core/webhooks/delivery';
import { type WebhookEndpoint } from '../../lambdas/core/webhooks/endpoint';
import { type DeliveryMessage } from '../../lambdas/core/webhooks/delivery-message';
import { ENV } from '../../lambdas/settings/environment';
import { webhookDefaults } from '../../lambdas/settings/webhooks';
import { webhookRetrySchedule } from '../../lambdas/settings/retry';
import { lambdaContext } from '../support/api-events';
import { provisionForTest } from '../support/endpoints';
import {
  InMemoryDeliveryQueue,
  InMemoryDeliveryStore,
  InMemoryWebhookEndpointStore,
  RecordingMerchantNotifier, endpointHealthOver,
} from '../support/core/webhooks/in-memory-ports';
import { InMemoryRedriveLog } from '../support/core/requests/in-memory-ports';
import { sealedDeliveryBody, toRecord } from '../support/sqs-records';
import { deliveryMessage, webhookEndpoint } from '../support/core/webhooks/fixtures';
import { startReceiver, type Reply, type WebhookReceiver } from '../support/webhook-receiver';

let sqs: SQSClient;
let queue: { url: string; arn: string };
let endpoints: DynamoWebhookEndpointStore;
let deliveries: DynamoDeliveryStore;
let deliver: (event: unknown, context: unknown) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;
let transport: DeliverDependencies['transport'];
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  const resources = await provisionForTest('circuit-breaker');
  process.env.HERALD_LOCAL_WEBHOOK_HOSTS = '127.0.0.1';
  // The schedule's real backoff: a failed message stays hidden until the test takes it off the queue.
  process.env[ENV.retryScale] = '1';
  queue = { url: resources.queues.deliveries.url, arn: resources.queues.deliveries.arn };
  sqs = new SQSClient({ endpoint: resources.endpoints.sqs });
  endpoints = new DynamoWebhookEndpointStore(dynamoClient(), resources.tableName, 0, resources.secretsTableName);
  deliveries = new DynamoDeliveryStore(dynamoClient(), resources.tableName);
  deliver = (await import('../../lambdas/handlers/deliver-webhooks')).handler as never;
  transport = (await import('../../lambdas/handlers/shared/dependencies')).webhookTransport();
});

afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
  sqs.destroy();
});

async function receiverAnswering(reply: (n: number) => Reply): Promise<WebhookReceiver> {
  const receiver = await startReceiver(reply);
  receivers.push(receiver);
  return receiver;
}

function endpointAt(url: string, id: string): WebhookEndpoint {
  return webhookEndpoint({ id, merchantId: 'mer_cb', url });
}

function messageFor(endpointId: string, subjectId: string, extra: Partial<DeliveryMessage> = {}): DeliveryMessage {
  return deliveryMessage({
    deliveryId: deliveryIdOf(subjectId, endpointId, 'request.succeeded'),
    merchantId: 'mer_cb',
    endpointId,
    subjectId,
    eventTimestamp: new Date().toISOString(),
    ...extra,
  });
}

const { failureThreshold, coolDownSeconds } = webhookDefaults.circuitBreaker;

describe('the deliver function against an endpoint that answers 503', () => {
  it(`posts ${failureThreshold} times, then skips further deliveries without a POST, logging each skip and acknowledging its message`, async () => {
    const receiver = await receiverAnswering(() => ({ status: 503 }));
    const endpoint = endpointAt(receiver.url, 'ep_cb_handler');
    expect(await endpoints.create(endpoint, 20)).toBe('created');

    const outcomes: { id: string; failed: boolean }[] = [];
    for (let i = 1; i <= failureThreshold + 2; i++) {
      const message = messageFor(endpoint.id, `req_cb_${i}`);
      await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: await sealedDeliveryBody(message) }));
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 1, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }));
      expect(Messages).toHaveLength(1);
      const response = await deliver({ Records: [toRecord(Messages[0]!, queue.arn)] }, lambdaContext());
      outcomes.push({ id: message.deliveryId, failed: response.batchItemFailures.length > 0 });
      // A failed one would come back after its backoff and be received in place of the next; this queue has no consumer to take it.
      if (response.batchItemFailures.length > 0) await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: Messages[0]!.ReceiptHandle! }));
    }

    expect(receiver.received).toHaveLength(failureThreshold);
    // The failed attempts come back after their backoff; the skipped messages are done with, replaced by delayed ones.
    expect(outcomes.map((o) => o.failed)).toEqual([...Array(failureThreshold).fill(true), false, false]);
    for (const { id } of outcomes.slice(failureThreshold)) {
      const skipped = (await deliveries.get(id))!;
      expect(skipped.state).toBe('pending');
      expect(skipped.attempts).toEqual([expect.objectContaining({ attempt: 1, error: 'circuit_open', latencyMs: 0 })]);
      const dueIn = (Date.parse(skipped.nextAttemptAt!) - Date.now()) / 1000;
      expect(dueIn).toBeGreaterThan(coolDownSeconds * 0.5);
      expect(dueIn).toBeLessThanOrEqual(coolDownSeconds * 1.1 + 1);
    }
    const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['ApproximateNumberOfMessagesDelayed'] }));
    expect(Number(Attributes.ApproximateNumberOfMessagesDelayed)).toBe(2);
  }, 60_000);
});

describe('a circuit over real HTTP, on a clock the test moves', () => {
  const settings = { failureThreshold: 3, coolDownSeconds: 30, maxCoolDownSeconds: 600, probeTimeoutSeconds: 10 };

  function harness(url: string) {
    let now = Date.parse('2026-06-01T10:00:00Z');
    const endpointStore = new InMemoryWebhookEndpointStore();
    const endpoint = endpointAt(url, 'ep_cb_clock');
    endpointStore.seed(endpoint);
    const queue = new InMemoryDeliveryQueue();
    const store = new InMemoryDeliveryStore();
    const deps: DeliverDependencies = {
      endpoints: endpointStore,
      deliveries: store,
      queue,
      health: endpointHealthOver({ endpoints: endpointStore, deliveries: store, notifier: new RecordingMerchantNotifier(), deadStreakLimit: 0, failingDaysLimit: 5 }),
      transport,
      loadRequest: async () => undefined,
      userAgent: 'test',
      schedule: webhookRetrySchedule,
      maxAttempts: 8,
      retryScale: 1,
      log: () => undefined,
      random: () => 0,
      now: () => new Date(now),
      redrives: new InMemoryRedriveLog(),
      queueName: 'deliveries',
      circuits: new EndpointCircuits(settings),
    };
    let n = 0;
    const send = (receiveCount = 1, extra: Partial<DeliveryMessage> = {}) =>
      deliverWebhook(deps, { message: messageFor(endpoint.id, `req_clock_${++n}`, extra), receiveCount, receiptHandle: `rh_${n}` });
    return { send, queue, store, advance: (seconds: number) => (now += seconds * 1000) };
  }

  it('lets one probe through after the cool-down; a failed probe doubles the wait, a good one closes the circuit', async () => {
    let healthy = false;
    const receiver = await receiverAnswering(() => (healthy ? { status: 200 } : { status: 500 }));
    const { send, queue, advance } = harness(receiver.url);

    for (let i = 0; i < 3; i++) expect((await send()).kind).toBe('retry');
    advance(10);
    const skipped = await send();
    expect(skipped).toMatchObject({ kind: 'skipped', delaySeconds: 20 });
    expect(receiver.received).toHaveLength(3);
    expect(queue.sent).toEqual([expect.objectContaining({ attemptsBefore: 0 })]);
    expect(queue.sentDelays).toEqual([20]);

    advance(21);
    expect((await send()).kind).toBe('retry');
    expect(receiver.received).toHaveLength(4);
    advance(59);
    expect(await send()).toMatchObject({ kind: 'skipped', delaySeconds: 1 });
    expect(receiver.received).toHaveLength(4);

    advance(1);
    healthy = true;
    expect((await send()).kind).toBe('delivered');
    expect((await send()).kind).toBe('delivered');
    expect(receiver.received).toHaveLength(6);
  }, 30_000);

  it('does not count a skip toward the attempts: the delivery dies only after the schedule’s attempts were made', async () => {
    const receiver = await receiverAnswering(() => ({ status: 500 }));
    const { send, store } = harness(receiver.url);
    // Sent again after a skip with six attempts made: its first receive is attempt 7, not the DLQ.
    const seventh = await send(1, { attemptsBefore: 6 });
    expect(seventh).toMatchObject({ kind: 'retry', attempt: { attempt: 7 } });
    const eighth = await send(2, { attemptsBefore: 6 });
    expect(eighth).toMatchObject({ kind: 'dead', attempt: { attempt: 8 } });
    expect(store.all().filter((d) => d.state === 'dead')).toHaveLength(1);
  }, 30_000);
});
