import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ENV } from '../../lambdas/settings/environment';
import { dynamoClient } from '../../lambdas/adapters/aws-clients';
import { dynamoRequestPorts, type DynamoRequestPorts } from '../../lambdas/adapters/dynamo-request-ports';
import { apiEvent, invoke, lambdaContext } from '../support/api-events';
import { provisionForTest } from '../support/endpoints';
import { acknowledge, receiveFor } from '../support/sqs-records';

type Queue = { url: string; arn: string };
let sqs: SQSClient;
let main: Queue;
let slow: Queue;
let store: DynamoRequestPorts;
let handlers: { submit: unknown; process: (event: SQSEvent, context: unknown) => Promise<SQSBatchResponse> };

beforeAll(async () => {
  const resources = await provisionForTest('slowlane');
  sqs = new SQSClient({ endpoint: resources.endpoints.sqs });
  main = resources.queues.requests;
  slow = resources.queues.requests.slowLane!;
  // As the stack and the local runtime set it for the process function alone.
  process.env[ENV.requestsSlowLaneQueueUrl] = slow.url;
  store = dynamoRequestPorts(dynamoClient(), resources.tableName, 30);
  handlers = {
    submit: (await import('../../lambdas/handlers/submit-request')).handler,
    process: (await import('../../lambdas/handlers/process-requests')).handler as never,
  };
});

afterAll(() => sqs.destroy());

let keys = 0;
async function submitOrder(merchantId: string, simulate: Record<string, unknown>): Promise<string> {
  const body = { type: 'order.process', payload: { orderId: `ord-${++keys}`, currency: 'EUR', items: [{ sku: 'tea', quantity: 1, unitPriceCents: 500 }], simulate } };
  const response = await invoke(handlers.submit, apiEvent({ method: 'POST', path: '/v1/requests', headers: { 'idempotency-key': `slow-lane-${keys}` }, body, merchantId }));
  expect(response.status).toBe(202);
  return response.body!.id as string;
}

/** One invocation from the queue the records came from, then the deletes of what it did not report as failed. */
async function consume(queue: Queue, records: SQSRecord[]): Promise<string[]> {
  const response = await handlers.process({ Records: records }, lambdaContext());
  const failed = (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
  for (const record of records) if (!failed.includes(record.messageId)) await acknowledge(sqs, queue.url, record);
  return failed;
}

async function consumeOne(queue: Queue, requestId: string): Promise<string[]> {
  const [record] = await receiveFor(sqs, queue, requestId);
  expect(record).toBeDefined();
  return consume(queue, [record!]);
}

const statusOf = async (id: string) => (await store.queries.get(id))!.status;

describe('the process worker with a slow lane', () => {
  // The threshold is the settings' 1 s: the first order takes 1.2 s, so this container measures its merchant's orders as slow.
  const SLOW = { durationMs: 1_200 };

  beforeAll(async () => {
    // A cold container's first records are not measured (they pay its start): warm it with an ordinary order.
    expect(await consumeOne(main, await submitOrder('mer_warm', {}))).toEqual([]);
  }, 30_000);

  it('runs a merchant\'s first slow order, then hands its next orders to the slow lane unclaimed, where they run; other merchants stay in the main lane', async () => {
    const first = await submitOrder('mer_burst', SLOW);
    expect(await consumeOne(main, first)).toEqual([]);
    expect(await statusOf(first)).toBe('succeeded');

    const next = await submitOrder('mer_burst', {});
    const quiet = await submitOrder('mer_quiet', {});
    expect(await consumeOne(main, next)).toEqual([]);
    expect(await consumeOne(main, quiet)).toEqual([]);
    // Handed over before it was claimed: only the slow lane's worker runs it.
    expect(await statusOf(next)).toBe('accepted');
    expect(await statusOf(quiet)).toBe('succeeded');
    expect(await receiveFor(sqs, main, next, 1, 500)).toEqual([]);

    expect(await consumeOne(slow, next)).toEqual([]);
    expect(await statusOf(next)).toBe('succeeded');
  }, 30_000);

  it('puts a request that fails in the slow lane back on the slow lane for its retry, and runs it there', async () => {
    await consumeOne(main, await submitOrder('mer_retry', SLOW));
    const failing = await submitOrder('mer_retry', { failFirstAttempts: 1 });
    await consumeOne(main, failing);

    const [record] = await receiveFor(sqs, slow, failing);
    expect(await consume(slow, [record!])).toEqual([record!.messageId]);
    expect(await statusOf(failing)).toBe('accepted');

    // The backoff (0 s at the tests' retry scale) changed the slow lane message's visibility: it is back there at once.
    expect(await consumeOne(slow, failing)).toEqual([]);
    expect(await statusOf(failing)).toBe('succeeded');
  }, 30_000);
});
