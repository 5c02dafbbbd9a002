import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { table } from '../../lambdas/settings/storage';
import { dynamoRequestPorts, type DynamoRequestPorts } from '../../lambdas/adapters/dynamo-request-ports';
import { keys, requestToItem, type Item } from '../../lambdas/adapters/dynamo/keys';
import { renderTransition } from '../../lambdas/adapters/dynamo/render-transition';
import { SqsRequestQueue } from '../../lambdas/adapters/sqs-request-queue';
import { claimRequest } from '../../lambdas/core/requests/claim-request';
import { decide } from '../../lambdas/core/requests/request-lifecycle';
import type { HeraldRequest } from '../../lambdas/core/requests/request';
import { sweepStuckRequests } from '../../lambdas/core/requests/sweep-stuck-requests';
import { provisionForTest } from '../support/endpoints';
import { storedRequest } from '../support/request-fixtures';

// Issue 22: the claim (accepted -> processing) writes the request item only. The byStatus index
// projects keys only, so an update that changes neither of its key attributes costs it nothing.

let tableName: string;
let requestsQueueUrl: string;
let dynamo: DynamoDBDocumentClient;
let sqs: SQSClient;
let ports: DynamoRequestPorts;

beforeAll(async () => {
  const resources = await provisionForTest('claim-index');
  tableName = resources.tableName;
  requestsQueueUrl = resources.queues.requests.url;
  dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: resources.endpoints.dynamodb }));
  sqs = new SQSClient({ endpoint: resources.endpoints.sqs });
  ports = dynamoRequestPorts(dynamo, tableName, 30);
});

afterAll(() => {
  dynamo.destroy();
  sqs.destroy();
});

const index = table.indexes.byStatus;
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);

async function stored(id: string): Promise<Item> {
  const { Item } = await dynamo.send(new GetCommand({ TableName: tableName, Key: keys.request(id), ConsistentRead: true }));
  return Item!;
}

async function submitted(id: string, at: Date): Promise<HeraldRequest> {
  const request = storedRequest(id, { merchantId: 'mer_claim', createdAt: at.toISOString(), updatedAt: at.toISOString() });
  await dynamo.send(new PutCommand({ TableName: tableName, Item: requestToItem(request) }));
  return request;
}

/** The write units a transition's UpdateItem consumed on the byStatus index (0 when none). */
async function byStatusUnits(request: HeraldRequest, event: Parameters<typeof decide>[1], now: Date): Promise<number> {
  const transition = decide(request, event, now, { retentionDays: 30 });
  if (transition.outcome !== 'transition') throw new Error(`the ${event.kind} should be allowed: ${transition.detail}`);
  const { ConsumedCapacity } = await dynamo.send(
    new UpdateCommand({ TableName: tableName, ...renderTransition(request.id, transition), ReturnConsumedCapacity: 'INDEXES' }),
  );
  expect(ConsumedCapacity?.Table?.CapacityUnits).toBeGreaterThan(0);
  return ConsumedCapacity?.GlobalSecondaryIndexes?.[index.name]?.CapacityUnits ?? 0;
}

describe('the claim and the byStatus index', () => {
  it('claims without a byStatus write, and the finish still takes the entry out', async () => {
    const request = await submitted('req_claimnoindexwrite000000001', minutesAgo(1));
    const now = new Date();

    expect(await byStatusUnits(request, { kind: 'claim', leaseMs: 60_000, maxAttempts: 5 }, now)).toBe(0);

    const claimed = await stored(request.id);
    expect(claimed.status).toBe('processing');
    // The finish removes the entry: the measurement sees an index write when there is one.
    expect(await byStatusUnits({ ...request, status: 'processing', attempts: 1, version: claimed.version }, { kind: 'succeed' }, now)).toBeGreaterThan(0);
    const finished = await stored(request.id);
    expect(finished[index.partitionKey]).toBeUndefined();
    expect(finished[index.sortKey]).toBeUndefined();
  });

  it('leaves the entry submit wrote under the open partition, where findUnfinished finds the processing request', async () => {
    const request = await submitted('req_claimkeepsentry00000000002', minutesAgo(1));
    const before = await stored(request.id);

    const claim = await claimRequest(ports.lifecycle, request.id, { leaseMs: 60_000, maxAttempts: 5 }, 0);
    expect(claim.outcome).toBe('claimed');

    const after = await stored(request.id);
    expect(after.status).toBe('processing');
    expect(after[index.partitionKey]).toBe(before[index.partitionKey]);
    expect(after[index.sortKey]).toBe(before[index.sortKey]);
    expect(String(after[index.partitionKey])).toMatch(/^STATUS#accepted#/);
    const { Items } = await dynamo.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: index.name,
        KeyConditionExpression: '#pk = :pk AND #sk = :sk',
        ExpressionAttributeNames: { '#pk': index.partitionKey, '#sk': index.sortKey },
        ExpressionAttributeValues: { ':pk': before[index.partitionKey], ':sk': before[index.sortKey] },
      }),
    );
    expect(Items?.map((item) => item.pk)).toEqual([keys.request(request.id).pk]);

    expect((await ports.sweeper.findUnfinished('processing', 100)).map((found) => found.id)).toContain(request.id);
    expect((await ports.sweeper.findUnfinished('accepted', 100)).map((found) => found.id)).not.toContain(request.id);
  });

  it('re-enqueues a processing request whose lease ran out, from the open entries and from the processing partitions a table written earlier holds', async () => {
    const expired = await submitted('req_claimleaseexpired000000003', minutesAgo(11));
    const held = await submitted('req_claimleaseheld000000000004', minutesAgo(11));
    const expiredClaim = await claimRequest(ports.lifecycle, expired.id, { leaseMs: 1_000, maxAttempts: 5 }, 0, minutesAgo(10));
    const heldClaim = await claimRequest(ports.lifecycle, held.id, { leaseMs: 3_600_000, maxAttempts: 5 }, 0, minutesAgo(10));
    expect([expiredClaim.outcome, heldClaim.outcome]).toEqual(['claimed', 'claimed']);
    // Claimed before the claim stopped moving the entry: under the processing partitions, by lease end.
    const earlier = storedRequest('req_claimlegacyprocessing00005', {
      merchantId: 'mer_claim',
      status: 'processing',
      attempts: 1,
      leaseUntil: minutesAgo(5).toISOString(),
      createdAt: minutesAgo(11).toISOString(),
      updatedAt: minutesAgo(10).toISOString(),
    });
    const earlierItem = requestToItem(earlier);
    expect(String(earlierItem[index.partitionKey])).toMatch(/^STATUS#processing#/);
    await dynamo.send(new PutCommand({ TableName: tableName, Item: earlierItem }));

    const report = await sweepStuckRequests(
      { store: ports.sweeper, queue: new SqsRequestQueue(sqs, requestsQueueUrl), log: () => undefined },
      { unenqueuedAfterSeconds: 60, staleEnqueueAfterSeconds: 900, batchLimit: 100 },
    );

    expect(report.failed).toEqual([]);
    const leaseExpired = report.resent.filter((entry) => entry.reason === 'lease-expired').map((entry) => entry.id);
    expect(leaseExpired.sort()).toEqual([expired.id, earlier.id].sort());
    expect(report.resent.map((entry) => entry.id)).not.toContain(held.id);
    const sent: string[] = [];
    for (let polls = 0; polls < 10 && sent.length < 2; polls++) {
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: requestsQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      sent.push(...(Messages ?? []).map((message) => String(JSON.parse(message.Body!).requestId)));
    }
    expect(sent.sort()).toEqual([expired.id, earlier.id].sort());
  }, 60_000);
});
