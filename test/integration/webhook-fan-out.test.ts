import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { dynamoClient } from '../../lambdas/adapters/aws-clients';
import { DynamoDeliveryStore } from '../../lambdas/adapters/dynamo-delivery-store';
import { DynamoWebhookEndpointStore } from '../../lambdas/adapters/dynamo-webhook-endpoint-store';
import { SqsDeliveryQueue } from '../../lambdas/adapters/sqs-delivery-queue';
import { WebhookFanOut } from '../../lambdas/core/webhooks/fan-out-webhooks';
import type { HeraldRequest } from '../../lambdas/core/requests/request';
import { deliveryIdOf } from '../../lambdas/core/webhooks/delivery';
import { generateSigningSecret, type WebhookEndpoint } from '../../lambdas/core/webhooks/endpoint';
import { parseDeliveryMessage } from '../../lambdas/core/webhooks/delivery-message';
import { webhookDefaults } from '../../lambdas/settings/webhooks';
import { lambdaContext } from '../support/api-events';
import { toRecord, testDeliveryMessageKey } from '../support/sqs-records';
import { startReceiver } from '../support/webhook-receiver';
import { provisionForTest } from '../support/endpoints';
import { firstOutcome } from '../support/core/webhooks/delivery-transitions';

let sqs: SQSClient;
let queueUrl: string;
let endpoints: DynamoWebhookEndpointStore;
let deliveries: DynamoDeliveryStore;
let fanOut: WebhookFanOut;
let sweep: (event: unknown, context: unknown) => Promise<{ resent: number }>;

beforeAll(async () => {
  const resources = await provisionForTest('webhook-fan-out');
  queueUrl = resources.queues.deliveries.url;
  sqs = new SQSClient({ endpoint: resources.endpoints.sqs });
  endpoints = new DynamoWebhookEndpointStore(dynamoClient(), resources.tableName, 0, resources.secretsTableName);
  deliveries = new DynamoDeliveryStore(dynamoClient(), resources.tableName);
  fanOut = new WebhookFanOut({ endpoints, queue: new SqsDeliveryQueue(sqs, queueUrl, testDeliveryMessageKey()) });
  sweep = (await import('../../lambdas/handlers/sweep-pending-deliveries')).handler as never;
});

afterAll(() => sqs.destroy());

async function drain() {
  const bodies = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (Messages.length === 0) return bodies;
    bodies.push(...Messages.map((m) => parseDeliveryMessage(m.Body!)!));
  }
}

async function endpoint(merchantId: string, extra: Partial<WebhookEndpoint> = {}): Promise<WebhookEndpoint> {
  const at = new Date().toISOString();
  const created: WebhookEndpoint = {
    id: `ep_${Math.random().toString(36).slice(2, 12)}`,
    merchantId,
    url: 'https://hooks.example.com/x',
    status: 'enabled',
    secret: { secret: generateSigningSecret(), createdAt: at },
    version: 1,
    createdAt: at,
    updatedAt: at,
    ...extra,
  };
  expect(await endpoints.create(created, 20)).toBe('created');
  return created;
}

function finished(merchantId: string, id: string, status: 'succeeded' | 'failed' | 'cancelled' = 'succeeded'): HeraldRequest {
  const at = new Date().toISOString();
  return {
    id,
    merchantId,
    type: 'demo.sleep',
    payload: {},
    status,
    version: 3,
    attempts: 1,
    idempotencyKey: id,
    webhookEvents: true,
    ...(status === 'succeeded' ? { result: { ok: true } } : { error: { code: 'x', message: 'no', retryable: false } }),
    history: [],
    createdAt: at,
    updatedAt: at,
  };
}

describe('the webhook fan-out', () => {
  it('sends one message per subscribed, enabled endpoint and writes no record: the first attempt\'s outcome will', async () => {
    const all = await endpoint('mer_fan');
    const failedOnly = await endpoint('mer_fan', { eventTypes: ['request.failed'] });
    await endpoint('mer_fan', { status: 'disabled', disabledReason: 'test' });
    await endpoint('mer_other');
    await drain();

    const request = finished('mer_fan', 'req_fan1');
    await fanOut.requestFinished(request);

    const messages = await drain();
    expect(messages.map((m) => m.deliveryId)).toEqual([deliveryIdOf('req_fan1', all.id, 'request.succeeded')]);
    expect(messages[0]).toMatchObject({ round: 1, subjectId: 'req_fan1', eventTimestamp: request.updatedAt });
    expect(JSON.parse(messages[0]!.payload!)).toMatchObject({ type: 'request.succeeded', data: { id: 'req_fan1', status: 'succeeded', result: { ok: true } } });
    expect(await deliveries.listForSubject('req_fan1')).toEqual([]);

    // A repeated fan-out sends the very same messages again: the deliver worker sorts the copies out.
    await fanOut.requestFinished(request);
    expect(await drain()).toEqual(messages);

    await fanOut.requestFinished(finished('mer_fan', 'req_fan2', 'failed'));
    expect((await drain()).map((m) => m.endpointId).sort()).toEqual([all.id, failedOnly.id].sort());
  });

  it('fails when a message could not be sent, so that the worker\'s message comes back', async () => {
    await endpoint('mer_unsent');
    const unreachable = new SqsDeliveryQueue(sqs, `${queueUrl}-missing`, testDeliveryMessageKey());
    await expect(new WebhookFanOut({ endpoints, queue: unreachable }).requestFinished(finished('mer_unsent', 'req_unsent'))).rejects.toThrow();
  });

  it('sends nothing for a cancelled request or one submitted with webhookEvents: false', async () => {
    await endpoint('mer_quiet');
    await fanOut.requestFinished(finished('mer_quiet', 'req_q1', 'cancelled'));
    await fanOut.requestFinished({ ...finished('mer_quiet', 'req_q2'), webhookEvents: false });
    expect(await drain()).toEqual([]);
  });
});

describe('the deliver function', () => {
  it('drops the message of a disabled or deleted endpoint with the reason on the delivery, sending nothing', async () => {
    process.env.HERALD_LOCAL_WEBHOOK_HOSTS = '127.0.0.1';
    const deliver = (await import('../../lambdas/handlers/deliver-webhooks')).handler as (event: unknown, context: unknown) => Promise<unknown>;
    const hook = await startReceiver();
    try {
      const disabled = await endpoint('mer_drop', { url: hook.url });
      const deleted = await endpoint('mer_drop', { url: hook.url });
      await drain();
      await fanOut.requestFinished(finished('mer_drop', 'req_drop1'));
      await endpoints.disable('mer_drop', disabled.id, 'paused by the merchant', new Date().toISOString());
      await endpoints.delete('mer_drop', deleted.id);

      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      expect(Messages).toHaveLength(2);
      const response = await deliver({ Records: Messages.map((m) => toRecord(m, 'arn:aws:sqs:us-east-1:000000000000:deliveries')) }, lambdaContext());

      expect(response).toEqual({ batchItemFailures: [] });
      expect(hook.received).toHaveLength(0);
      const stored = await deliveries.listForSubject('req_drop1');
      expect(stored.find((d) => d.endpointId === disabled.id)).toMatchObject({ state: 'dropped', reason: expect.stringContaining('paused by the merchant') });
      expect(stored.find((d) => d.endpointId === deleted.id)).toMatchObject({ state: 'dropped', reason: expect.stringContaining('deleted') });
    } finally {
      await hook.close();
    }
  });
});

describe('a repeated fan-out', () => {
  let deliver: (event: unknown, context: unknown) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;
  beforeAll(async () => {
    process.env.HERALD_LOCAL_WEBHOOK_HOSTS = '127.0.0.1';
    deliver = (await import('../../lambdas/handlers/deliver-webhooks')).handler as never;
  });

  /** Every message visible now, the first copy's come back after its short backoff included. */
  async function receiveAll(): Promise<Message[]> {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, AttributeNames: ['All'] }));
    return Messages;
  }

  /** Receives what the fan-out sent and runs the deliver function on it, as the event source would. */
  async function deliverSent() {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, AttributeNames: ['All'] }));
    expect(Messages).toHaveLength(1);
    return deliver({ Records: Messages.map((m) => toRecord(m, 'arn:aws:sqs:us-east-1:000000000000:deliveries')) }, lambdaContext());
  }

  it('posts once: its copy finds the delivered record and posts nothing', async () => {
    const hook = await startReceiver(() => ({ status: 204 }));
    try {
      const target = await endpoint('mer_again', { url: hook.url });
      await drain();
      const request = finished('mer_again', 'req_again1');

      await fanOut.requestFinished(request);
      expect(await deliverSent()).toEqual({ batchItemFailures: [] });
      await fanOut.requestFinished(request);
      expect(await deliverSent()).toEqual({ batchItemFailures: [] });

      expect(hook.received).toHaveLength(1);
      expect(hook.received[0]!.headers['webhook-id']).toBe(deliveryIdOf('req_again1', target.id, 'request.succeeded'));
      expect(await deliveries.listForSubject('req_again1')).toEqual([expect.objectContaining({ state: 'succeeded', round: 1, attempts: [expect.objectContaining({ status: 204 })] })]);
    } finally {
      await hook.close();
    }
  });

  it('adds no second series of retries to a delivery whose first attempt failed', async () => {
    const hook = await startReceiver(() => ({ status: 500 }));
    try {
      await endpoint('mer_again_failing', { url: hook.url });
      await drain();
      const request = finished('mer_again_failing', 'req_again2');

      await fanOut.requestFinished(request);
      // The first copy fails and waits out its backoff on the queue (a short one under the test scale).
      expect((await deliverSent()).batchItemFailures).toHaveLength(1);
      const afterFirst = await deliveries.listForSubject('req_again2');
      await fanOut.requestFinished(request);

      // The second copy, on its first receive, is acknowledged without a POST.
      const copies = await receiveAll();
      const second = copies.filter((m) => m.Attributes?.ApproximateReceiveCount === '1');
      expect(second).toHaveLength(1);
      expect(await deliver({ Records: second.map((m) => toRecord(m, 'arn:aws:sqs:us-east-1:000000000000:deliveries')) }, lambdaContext())).toEqual({ batchItemFailures: [] });

      expect(hook.received).toHaveLength(1);
      expect(afterFirst).toEqual([expect.objectContaining({ state: 'pending', round: 1, attempts: [expect.objectContaining({ attempt: 1, status: 500 })] })]);
      expect(await deliveries.listForSubject('req_again2')).toEqual(afterFirst);
      // The first copy's retries are not this test's concern.
      for (const copy of copies) await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: copy.ReceiptHandle! })).catch(() => undefined);
    } finally {
      await hook.close();
    }
  });
});

describe('the delivery sweeper', () => {
  it('re-enqueues a pending delivery whose message was lost, as a new round, and leaves fresh ones alone', async () => {
    await drain();
    const overdueAt = new Date(Date.now() - (webhookDefaults.sweepGraceSeconds + 60) * 1000).toISOString();
    const base = {
      merchantId: 'mer_sweep',
      endpointId: 'ep_sweep',
      eventType: 'request.succeeded' as const,
      eventTimestamp: overdueAt,
      createdAt: overdueAt,
    };
    const failed = { at: overdueAt, attempt: 1, status: 500, latencyMs: 5 };
    const lost = { ...base, id: deliveryIdOf('req_lost', 'ep_sweep', 'request.succeeded'), subjectId: 'req_lost' };
    const fresh = { ...base, id: deliveryIdOf('req_fresh', 'ep_sweep', 'request.succeeded'), subjectId: 'req_fresh' };
    // Both failed their first attempt; the lost one's retry was due long ago and never came.
    await deliveries.apply(firstOutcome(lost, { kind: 'reschedule', attempts: [failed], nextAttemptAt: overdueAt }, overdueAt));
    await deliveries.apply(firstOutcome(fresh, { kind: 'reschedule', attempts: [failed], nextAttemptAt: new Date().toISOString() }, overdueAt));

    expect(await sweep({}, lambdaContext())).toEqual({ resent: 1 });
    const messages = await drain();
    expect(messages).toEqual([expect.objectContaining({ deliveryId: lost.id, round: 2 })]);
    expect(messages[0]!.payload).toBeUndefined();
    expect(await deliveries.get(lost.id)).toMatchObject({ state: 'pending', round: 2 });

    // The resent delivery is due now, so the next sweep leaves it alone.
    expect(await sweep({}, lambdaContext())).toEqual({ resent: 0 });
  });
});
