import { DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { provision, type ResourceNames } from '../../lib/local/provision';
import type { LocalRuntime } from '../../lib/local/runtime';
import { ENV } from '../../lambdas/settings/environment';
import { sharedEndpoints, uniqueNames } from '../support/endpoints';
import { apiClient, eventually, startTestRuntime } from '../support/local-runtime';
import { indexKeys, keys } from '../../lambdas/adapters/dynamo/keys';

/**
 * Nothing accepted is lost: with the requests queue gone, a submit is stored but answered 503;
 * then either the client's retry with the same key or the sweeper puts it on the queue, and the
 * worker finishes it.
 */
let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let names: ResourceNames;
let sqs: SQSClient;
let dynamo: DynamoDBDocumentClient;

beforeAll(async () => {
  // The queue consumers complain while their queue is gone; that is expected here.
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
  names = uniqueNames('lost');
  // A sweep queries every shard of the status index (about 390 queries a run): a shorter period
  // would keep DynamoDB Local busy with sweeps alone.
  runtime = await startTestRuntime('lost', { names, schedulePeriodMs: 2_000 });
  api = apiClient(runtime);
  sqs = new SQSClient({ endpoint: runtime.endpoints.sqs });
  dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: runtime.endpoints.dynamodb }));
});

afterAll(async () => {
  delete process.env[ENV.sweepUnenqueuedAfterSeconds];
  await runtime?.stop();
  sqs?.destroy();
  dynamo?.destroy();
});

/** Submits while the requests queue does not exist, then brings the queue back (same name, same settings). */
async function submitWhileQueueIsGone(key: string) {
  await sqs.send(new DeleteQueueCommand({ QueueUrl: runtime.resources.queues.requests.url }));
  try {
    return await api('POST', '/v1/requests', { body: { type: 'demo.sleep', payload: { ms: 1 } }, headers: { 'idempotency-key': key } });
  } finally {
    await provision(sharedEndpoints(), names);
  }
}

const stored = async (id: string) =>
  (await dynamo.send(new GetCommand({ TableName: runtime.resources.tableName, Key: keys.request(id) }))).Item;

const finished = (id: string) =>
  eventually(async () => {
    const polled = await api('GET', `/v1/requests/${id}`);
    return polled.body?.status === 'succeeded' ? polled.body : undefined;
  }, 20_000);

describe('a submit whose SendMessage fails', () => {
  it('is stored, answered 503 with Retry-After, and enqueued by a retry with the same key', async () => {
    // The sweeper reads its thresholds on every run: keep it away so the retry is what enqueues.
    process.env[ENV.sweepUnenqueuedAfterSeconds] = '3600';
    const refused = await submitWhileQueueIsGone('lost-retry-1');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // The 503 carries no id: the request is found through the merchant's list, newest first.
    const id = (await api('GET', '/v1/requests?limit=1')).body!.items[0].id as string;
    const item = await stored(id);
    expect(item).toMatchObject({ status: 'accepted', idempotencyKey: 'lost-retry-1' });
    expect(item!.enqueuedAt).toBeUndefined();

    const retried = await api('POST', '/v1/requests', {
      body: { type: 'demo.sleep', payload: { ms: 1 } },
      headers: { 'idempotency-key': 'lost-retry-1' },
    });
    expect(retried.status).toBe(202);
    expect(retried.body!.id).toBe(id);
    expect((await finished(id)).attempts).toBe(1);
  });

  it('is re-enqueued by the sweeper when the client never retries', async () => {
    process.env[ENV.sweepUnenqueuedAfterSeconds] = '1';
    const refused = await submitWhileQueueIsGone('lost-sweep-1');
    expect(refused.status).toBe(503);
    const id = (await api('GET', '/v1/requests?limit=1')).body!.items[0].id as string;
    const done = await finished(id);
    expect(done.history.map((h: { to: string }) => h.to)).toEqual(['accepted', 'processing', 'succeeded']);
  });

  it('is re-enqueued by the sweeper when its enqueue mark is stale (the compensating write failed too)', async () => {
    // Only the stale-mark rule may bring this one back.
    process.env[ENV.sweepUnenqueuedAfterSeconds] = '3600';
    const refused = await submitWhileQueueIsGone('lost-stale-1');
    expect(refused.status).toBe(503);
    const id = (await api('GET', '/v1/requests?limit=1')).body!.items[0].id as string;
    // As if clearing the mark after the failed SendMessage had failed two hours ago: the mark
    // still says "enqueued", so only the stale-mark rule can bring it back.
    const then = new Date(Date.now() - 2 * 3600_000).toISOString();
    await dynamo.send(
      new UpdateCommand({
        TableName: runtime.resources.tableName,
        Key: keys.request(id),
        UpdateExpression: 'SET enqueuedAt = :then, updatedAt = :then, gsi2sk = :sk',
        ExpressionAttributeValues: { ':then': then, ':sk': `${then}#${id}` },
      }),
    );
    expect((await finished(id)).attempts).toBe(1);
  });

  it('brings back a request left processing past its lease by a worker that vanished', async () => {
    process.env[ENV.sweepUnenqueuedAfterSeconds] = '3600';
    const refused = await submitWhileQueueIsGone('lost-lease-1');
    expect(refused.status).toBe(503);
    const id = (await api('GET', '/v1/requests?limit=1')).body!.items[0].id as string;
    const leaseUntil = new Date(Date.now() - 1000).toISOString();
    const statusIndex = indexKeys.requestStatus(id, 'processing', leaseUntil);
    await dynamo.send(
      new UpdateCommand({
        TableName: runtime.resources.tableName,
        Key: keys.request(id),
        UpdateExpression: 'SET #s = :p, attempts = :one, version = version + :one, leaseUntil = :lease, gsi2pk = :pk, gsi2sk = :sk',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':p': 'processing', ':one': 1, ':lease': leaseUntil, ':pk': statusIndex.gsi2pk, ':sk': statusIndex.gsi2sk },
      }),
    );
    const done = await finished(id);
    expect(done.attempts).toBe(2);
    expect(done.history.at(-2)).toMatchObject({ from: 'processing', to: 'processing', reason: expect.stringContaining('lease expired') });
  });
});
