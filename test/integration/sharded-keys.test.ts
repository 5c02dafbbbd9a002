import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { table } from '../../lambdas/settings/storage';
import { DynamoDeliveryStore } from '../../lambdas/adapters/dynamo-delivery-store';
import { dynamoRequestPorts } from '../../lambdas/adapters/dynamo-request-ports';
import { deliveryToItem, keys, requestToItem, type Item } from '../../lambdas/adapters/dynamo/keys';
import { shardOf } from '../../lambdas/adapters/dynamo/shards';
import { testDeliveryMessageKey } from '../support/sqs-records';
import { SqsDeliveryQueue } from '../../lambdas/adapters/sqs-delivery-queue';
import { SqsRequestQueue } from '../../lambdas/adapters/sqs-request-queue';
import { sweepPendingDeliveries } from '../../lambdas/core/webhooks/sweep-pending-deliveries';
import { sweepStuckRequests } from '../../lambdas/core/requests/sweep-stuck-requests';
import { deliveryIdOf, type Delivery } from '../../lambdas/core/webhooks/delivery';
import { apiEvent, invoke } from '../support/api-events';
import { provisionForTest } from '../support/endpoints';
import { storedRequest } from '../support/request-fixtures';

let handlers: { submit: unknown; list: unknown };
let tableName: string;
let dynamo: DynamoDBDocumentClient;
let sqs: SQSClient;
let queueUrls: { requests: string; deliveries: string };

beforeAll(async () => {
  const resources = await provisionForTest('sharded-keys');
  tableName = resources.tableName;
  queueUrls = { requests: resources.queues.requests.url, deliveries: resources.queues.deliveries.url };
  dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: resources.endpoints.dynamodb }));
  sqs = new SQSClient({ endpoint: resources.endpoints.sqs });
  handlers = {
    submit: (await import('../../lambdas/handlers/submit-request')).handler,
    list: (await import('../../lambdas/handlers/list-requests')).handler,
  };
});

afterAll(() => {
  dynamo.destroy();
  sqs.destroy();
});

const submit = (key: string, merchantId: string) =>
  invoke(
    handlers.submit,
    apiEvent({ method: 'POST', path: '/v1/requests', headers: { 'idempotency-key': key }, body: { type: 'demo.sleep', payload: { ms: 0 } }, merchantId }),
  );

const list = (merchantId: string, query: Record<string, string>) => {
  const event = apiEvent({ method: 'GET', path: '/v1/requests', merchantId });
  return invoke(handlers.list, { ...event, rawQueryString: new URLSearchParams(query).toString(), queryStringParameters: query });
};

/** Every page of a list, following cursors, with the size of each page. */
async function everyPage(merchantId: string, query: Record<string, string>): Promise<{ ids: string[]; sizes: number[] }> {
  const ids: string[] = [];
  const sizes: number[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(merchantId, { ...query, ...(cursor ? { cursor } : {}) });
    expect(page.status).toBe(200);
    ids.push(...page.body!.items.map((item: { id: string }) => item.id));
    sizes.push(page.body!.items.length);
    cursor = page.body!.nextCursor;
  } while (cursor && sizes.length < 50);
  return { ids, sizes };
}

async function stored(id: string): Promise<Item> {
  const { Item } = await dynamo.send(new GetCommand({ TableName: tableName, Key: keys.request(id) }));
  return Item!;
}

/** The newest-first order the list promises: by creation time, equal times by id, both descending. */
const newestFirst = (items: readonly Item[]) =>
  [...items].sort((a, b) => (`${a.createdAt}#${a.id}` < `${b.createdAt}#${b.id}` ? 1 : -1)).map((item) => String(item.id));

/** Request ids of the form the API checks (`req_` and 26 base-36 characters), one landing on each shard of `count`. */
function oneIdPerShard(count: number, prefix: string, idOf: (candidate: string) => string = (candidate) => candidate): Map<number, string> {
  const byShard = new Map<number, string>();
  for (let n = 0; byShard.size < count; n++) {
    const candidate = `req_${prefix}${n.toString(36).padStart(26 - prefix.length, '0')}`;
    const shard = shardOf(idOf(candidate), count);
    if (!byShard.has(shard)) byShard.set(shard, candidate);
  }
  return byShard;
}

async function putAll(items: Item[]): Promise<void> {
  for (let at = 0; at < items.length; at += 25) {
    await dynamo.send(new BatchWriteCommand({ RequestItems: { [tableName]: items.slice(at, at + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  }
}

describe('one merchant\'s requests spread over the list shards', () => {
  const merchant = 'mer_sharded_list';
  let expected: string[];
  let all: Item[];

  beforeAll(async () => {
    const submitted: string[] = [];
    for (let n = 0; n < 40; n++) {
      const response = await submit(`shard-list-${n}`, merchant);
      expect(response.status).toBe(202);
      submitted.push(response.body!.id);
    }
    all = await Promise.all(submitted.map(stored));
    // An entry written before the list was sharded sits under the unsharded key and must still be listed.
    const legacy = requestToItem(storedRequest('req_legacy00000000000000000000', { merchantId: merchant, createdAt: String(all[20]!.createdAt), updatedAt: String(all[20]!.createdAt) }));
    await dynamo.send(new PutCommand({ TableName: tableName, Item: { ...legacy, gsi1pk: `MER#${merchant}` } }));
    all.push(legacy);
    expected = newestFirst(all);
  });

  it('writes the list entries to many shards of the index, not to one partition', () => {
    const partitions = new Set(all.map((item) => item.gsi1pk));
    // 40 requests over 16 shards: an even hash leaves at most a few shards empty.
    expect(partitions.size).toBeGreaterThanOrEqual(10);
    for (const item of all.slice(0, 40)) expect(item.gsi1pk).toBe(`MER#${merchant}#${shardOf(String(item.id), table.shards.merchantRequests)}`);
  });

  it('lists them newest first across shards, page by page, each exactly once', async () => {
    const { ids, sizes } = await everyPage(merchant, { limit: '7' });
    expect(ids).toEqual(expected);
    expect(sizes).toEqual([7, 7, 7, 7, 7, 6]);
  });

  it('resumes every shard from a cursor, whatever was submitted after the first page', async () => {
    const first = await list(merchant, { limit: '9' });
    expect(first.body!.items.map((item: { id: string }) => item.id)).toEqual(expected.slice(0, 9));
    const newer = await submit('shard-list-after', merchant);
    expect(newer.status).toBe(202);
    const rest: string[] = [];
    let cursor: string | undefined = first.body!.nextCursor;
    while (cursor) {
      const page = await list(merchant, { limit: '9', cursor });
      rest.push(...page.body!.items.map((item: { id: string }) => item.id));
      cursor = page.body!.nextCursor;
    }
    expect(rest).toEqual(expected.slice(9));
    expect((await list(merchant, { limit: '1' })).body!.items[0].id).toBe(newer.body!.id);
  });

  it('filters by status across shards and keeps the order', async () => {
    const chosen = [all[3]!, all[11]!, all[19]!, all[27]!, all[35]!].map((item) => String(item.id));
    for (const id of chosen) {
      await dynamo.send(
        new UpdateCommand({ TableName: tableName, Key: keys.request(id), UpdateExpression: 'SET #s = :p', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':p': 'processing' } }),
      );
    }
    const { ids } = await everyPage(merchant, { status: 'processing', limit: '2' });
    expect(ids).toEqual(expected.filter((id) => chosen.includes(id)));
  });

  it('answers a cursor it never issued with a 400 problem naming the cursor', async () => {
    const forged = Buffer.from(JSON.stringify({ v: 1, c: 'yesterday', i: 'req_x' })).toString('base64url');
    const response = await list(merchant, { cursor: forged });
    expect(response.status).toBe(400);
    expect(response.headers['Content-Type']).toBe('application/problem+json');
    expect(response.body!.detail).toContain('/cursor');
  });
});

describe('the sweepers read every shard of the status index', () => {
  const longAgo = '2026-01-01T00:00:00.000Z';

  it('re-enqueues an unqueued accepted request and a lease-expired processing one from every shard and the unsharded key', async () => {
    const accepted = oneIdPerShard(table.shards.byStatus, 'a');
    const processing = oneIdPerShard(table.shards.byStatus, 'p');
    // Claimed since the claim stopped moving the entry: processing, still under the accepted partition.
    const claimed = oneIdPerShard(table.shards.byStatus, 'c');
    const items: Item[] = [
      ...[...claimed.values()].map((id) => ({
        ...requestToItem(storedRequest(id, { merchantId: 'mer_sweep', createdAt: longAgo, updatedAt: longAgo })),
        status: 'processing',
        attempts: 1,
        leaseUntil: longAgo,
      })),
      ...[...accepted.values()].map((id) => requestToItem(storedRequest(id, { merchantId: 'mer_sweep', createdAt: longAgo, updatedAt: longAgo }))),
      ...[...processing.values()].map((id) =>
        requestToItem(storedRequest(id, { merchantId: 'mer_sweep', status: 'processing', attempts: 1, leaseUntil: longAgo, createdAt: longAgo, updatedAt: longAgo })),
      ),
    ];
    const legacyAccepted = requestToItem(storedRequest('req_aold0000000000000000000000', { merchantId: 'mer_sweep', createdAt: longAgo, updatedAt: longAgo }));
    items.push({ ...legacyAccepted, gsi2pk: 'STATUS#accepted' });
    await putAll(items);
    expect(new Set(items.map((item) => item.gsi2pk)).size).toBe(2 * table.shards.byStatus + 1);
    expect([...claimed.values()].every((id) => String(items.find((item) => item.id === id)!.gsi2pk).startsWith('STATUS#accepted#'))).toBe(true);

    const report = await sweepStuckRequests(
      { store: dynamoRequestPorts(dynamo, tableName, 30).sweeper, queue: new SqsRequestQueue(sqs, queueUrls.requests), log: () => undefined },
      // An hour: the requests the list tests submitted to this table a moment ago are not stuck.
      { unenqueuedAfterSeconds: 3600, staleEnqueueAfterSeconds: 3600, batchLimit: 500 },
    );
    expect(report.failed).toEqual([]);
    const resent = (reason: string) => report.resent.filter((entry) => entry.reason === reason).map((entry) => entry.id).sort();
    expect(resent('never-enqueued')).toEqual([...accepted.values(), legacyAccepted.id].sort());
    expect(resent('lease-expired')).toEqual([...processing.values(), ...claimed.values()].sort());

    // A smaller batch takes no more than the batch, each request once.
    const bounded = await sweepStuckRequests(
      { store: dynamoRequestPorts(dynamo, tableName, 30).sweeper, queue: new SqsRequestQueue(sqs, queueUrls.requests), log: () => undefined },
      { unenqueuedAfterSeconds: 3600, staleEnqueueAfterSeconds: 3600, batchLimit: 20 },
    );
    expect(bounded.resent).toHaveLength(20);
    expect(new Set(bounded.resent.map((entry) => entry.id)).size).toBe(20);
    const abandoned = new Set([...processing.values(), ...claimed.values()]);
    for (const entry of bounded.resent) expect(abandoned.has(entry.id)).toBe(true);
  }, 180_000);

  it('re-enqueues an overdue pending delivery from every shard, and lists an endpoint\'s log across its shards', async () => {
    const endpointId = 'ep_sharded';
    const subjects = oneIdPerShard(table.shards.byStatus, 'd', (subject) => deliveryIdOf(subject, endpointId, 'request.succeeded'));
    const base = Date.parse('2026-02-01T00:00:00.000Z');
    const deliveries: Delivery[] = [...subjects.values()].map((subjectId, n) => {
      const at = new Date(base + n * 1000).toISOString();
      return {
        id: deliveryIdOf(subjectId, endpointId, 'request.succeeded'),
        merchantId: 'mer_sweep',
        endpointId,
        subjectId,
        eventType: 'request.succeeded',
        eventTimestamp: at,
        state: 'pending',
        round: 1,
        attempts: [],
        nextAttemptAt: at,
        createdAt: at,
        updatedAt: at,
      };
    });
    await putAll(deliveries.map(deliveryToItem));

    const store = new DynamoDeliveryStore(dynamo, tableName);
    const report = await sweepPendingDeliveries({ deliveries: store, queue: new SqsDeliveryQueue(sqs, queueUrls.deliveries, testDeliveryMessageKey()), log: () => undefined }, { graceSeconds: 60, limit: 500 });
    expect([...report.resent].sort()).toEqual(deliveries.map((d) => d.id).sort());

    // The log: newest first for the console, oldest first page by page for a recovery.
    const byAge = deliveries.map((d) => d.id);
    expect((await store.listForEndpoint(endpointId, { limit: 10 })).map((d) => d.id)).toEqual(byAge.slice(-10).reverse());
    const paged: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await store.pageForEndpoint(endpointId, { since: new Date(base + 5_000).toISOString(), limit: 25, ...(after ? { after } : {}) });
      paged.push(...page.deliveries.map((d) => d.id));
      after = page.next;
      pages++;
    } while (after && pages < 20);
    expect(paged).toEqual(byAge.slice(5));
  }, 180_000);
});
