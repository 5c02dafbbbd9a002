import { randomBytes } from 'node:crypto';
import { DynamoDBClient, GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { dynamoRequestPorts, type DynamoRequestPorts } from '../../lambdas/adapters/dynamo-request-ports';
import { keys, requestToItem } from '../../lambdas/adapters/dynamo/keys';
import { S3RequestBodies } from '../../lambdas/adapters/s3-request-bodies';
import { S3Client } from '@aws-sdk/client-s3';
import { claimRequest } from '../../lambdas/core/requests/claim-request';
import { decideAndApply } from '../../lambdas/core/requests/apply-decision';
import { provisionForTest } from '../support/endpoints';
import { storedRequest } from '../support/request-fixtures';
import { orderPayload } from '../support/order-payload';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lib/local/provision';

let raw: DynamoDBClient;
let dynamo: DynamoDBDocumentClient;
let s3: S3Client;
let tableName: string;
let store: DynamoRequestPorts;

beforeAll(async () => {
  const resources = await provisionForTest('item-size');
  tableName = resources.tableName;
  raw = new DynamoDBClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: resources.endpoints.dynamodb });
  dynamo = DynamoDBDocumentClient.from(raw);
  s3 = new S3Client({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: resources.endpoints.s3, forcePathStyle: true });
  store = dynamoRequestPorts(dynamo, tableName, 30, new S3RequestBodies(s3, resources.bodiesBucket));
});

afterAll(() => {
  dynamo?.destroy();
  s3?.destroy();
});

/**
 * The write units of the request item as it now stands, as DynamoDB counts them: the item is
 * written back unchanged, and a put is billed for the larger of the old and new item, here equal.
 */
async function tableWriteUnits(id: string): Promise<number> {
  const { Item } = await raw.send(new GetItemCommand({ TableName: tableName, Key: marshall(keys.request(id)), ConsistentRead: true }));
  const put = await raw.send(new PutItemCommand({ TableName: tableName, Item: Item as Record<string, AttributeValue>, ReturnConsumedCapacity: 'INDEXES' }));
  return put.ConsumedCapacity!.Table!.CapacityUnits!;
}

/** A request as submit makes it: a real id's length, a trace id, an idempotency key as clients send them. */
function submitted(suffix: string, payload: Record<string, unknown>) {
  const id = `req_${suffix.padEnd(26, '0')}`;
  return storedRequest(id, {
    merchantId: 'mer_itemsize',
    type: 'demo.sleep',
    payload,
    idempotencyKey: '5f0c6a52-3d0e-4d8f-9b7a-2f1e6c9d4b11',
    traceId: 'Root=1-67a1b2c3-4d5e6f708192a3b4c5d6e7f8',
  });
}

async function lifecycleUnits(suffix: string, payload: Record<string, unknown>, result: unknown): Promise<number[]> {
  const request = submitted(suffix, payload);
  expect(await store.intake.create(request, 'a'.repeat(64))).toEqual({ outcome: 'created' });
  const afterSubmit = await tableWriteUnits(request.id);
  const claim = await claimRequest(store.lifecycle, request.id, { leaseMs: 60_000, maxAttempts: 5 }, 0);
  expect(claim).toMatchObject({ outcome: 'claimed', request: { payload } });
  const afterClaim = await tableWriteUnits(request.id);
  const finished = await decideAndApply(store.lifecycle, { id: request.id, status: 'processing', attempts: 1 }, { kind: 'succeed', result }, new Date());
  expect(finished).toMatchObject({ outcome: 'applied', request: { status: 'succeeded', result, payload } });
  return [afterSubmit, afterClaim, await tableWriteUnits(request.id)];
}

describe('the request item at the reference 1 KB payload', () => {
  // The target (one unit a write) is not met for the reference order: compression brings
  // its 1021 B of JSON to 568 B, and the attributes around it (keys, index keys, history rows,
  // fingerprint, trace id) still take the item past 1 KB at every write (docs/performance.md). This
  // pins where it stands, so a trim that reaches one unit, or a change that grows the item past two,
  // is seen and the docs follow.
  it('writes two units at submit, claim and finish for the reference 1 KB order, the target of one not yet met', async () => {
    const payload = orderPayload(1, { ms: 0 });
    // The reference payload is a realistic order of about 1 KB of JSON.
    expect(Buffer.byteLength(JSON.stringify(payload))).toBeGreaterThan(1000);
    expect(await lifecycleUnits('itemsizeorder', payload, { sleptMs: 0 })).toEqual([2, 2, 2]);
  });

  it('writes one unit at submit, claim and finish for a payload of two units as a plain map that compresses well', async () => {
    // Twelve lines of the same product: about 0.8 KB as a DynamoDB map, which with the rest of the
    // item (about 740 B at the claim) is past 1 KB; compressed it is a few dozen bytes.
    const payload = { ms: 0, items: Array.from({ length: 12 }, (_, line) => ({ sku: `SKU-000120-${line}`, name: 'Organic Arabica Coffee Beans 1kg', quantity: 1, unitPrice: 18.5 })) };
    expect(await lifecycleUnits('itemsizerepeat', payload, { sleptMs: 0 })).toEqual([1, 1, 1]);

    // The same request written as before compression, its payload a plain map: two units.
    const old = submitted('itemsizerepeatplain', payload);
    await dynamo.send(new PutCommand({ TableName: tableName, Item: { ...requestToItem(old), payload, fingerprint: 'c'.repeat(64) } }));
    expect(await tableWriteUnits(old.id)).toBe(2);
  });

  it('keeps two write units a write for a 1 KB payload that does not compress', async () => {
    const payload = { ms: 0, blob: randomBytes(740).toString('base64') };
    expect(await lifecycleUnits('itemsizerandom', payload, { sleptMs: 0 })).toEqual([2, 2, 2]);
  });
});

describe('a request item with a compressed payload and result', () => {
  it('reads both back as they were, and reads an item written before compression as it was', async () => {
    const payload = orderPayload(3, { ms: 0 });
    const result = { receipt: orderPayload(2, {}, 7) };
    await lifecycleUnits('itemsizeround', payload, result);
    const { Item } = await raw.send(new GetItemCommand({ TableName: tableName, Key: marshall(keys.request('req_itemsizeround0000000000000')), ConsistentRead: true }));
    // Stored compressed: a Binary attribute smaller than the JSON.
    expect(Item!.payload!.B!.length).toBeLessThan(Buffer.byteLength(JSON.stringify(payload)));
    expect(Item!.result!.B).toBeDefined();
    expect(await store.queries.getSubmittedForMerchant('mer_itemsize', 'req_itemsizeround0000000000000')).toMatchObject({ payload, result });

    // An item as written before compression: payload and result as plain maps.
    const old = submitted('itemsizeplain', payload);
    const oldItem = { ...requestToItem({ ...old, status: 'succeeded', result }), payload, result, fingerprint: 'b'.repeat(64) };
    await dynamo.send(new PutCommand({ TableName: tableName, Item: oldItem }));
    expect(await store.queries.getSubmittedForMerchant('mer_itemsize', old.id)).toMatchObject({ payload, result });
  });
});
