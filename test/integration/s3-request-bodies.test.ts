import { randomBytes } from 'node:crypto';
import { brotliDecompressSync } from 'node:zlib';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoRequestPorts, type DynamoRequestPorts } from '../../lambdas/adapters/dynamo-request-ports';
import { keys } from '../../lambdas/adapters/dynamo/keys';
import { S3RequestBodies } from '../../lambdas/adapters/s3-request-bodies';
import { claimRequest } from '../../lambdas/core/requests/claim-request';
import { provisionForTest } from '../support/endpoints';
import { storedRequest } from '../support/request-fixtures';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lib/local/provision';
import { orderPayload } from '../support/order-payload';
import { storedBodyBytes } from '../support/stored-bodies';

let s3: S3Client;
let dynamo: DynamoDBDocumentClient;
let bucket: string;
let tableName: string;
let bodies: S3RequestBodies;
let store: DynamoRequestPorts;

beforeAll(async () => {
  const resources = await provisionForTest('s3-bodies');
  bucket = resources.bodiesBucket;
  tableName = resources.tableName;
  s3 = new S3Client({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: resources.endpoints.s3, forcePathStyle: true });
  dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: resources.endpoints.dynamodb }));
  bodies = new S3RequestBodies(s3, bucket);
  store = dynamoRequestPorts(dynamo, tableName, 30, bodies);
});

afterAll(() => {
  s3?.destroy();
  dynamo?.destroy();
});

const objectKeys = async (prefix: string) =>
  ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []).map((object) => object.Key);

const rawObject = (key: string) => storedBodyBytes(s3, bucket, key);

describe('S3RequestBodies', () => {
  it('reads a body back as written, JSON members named like prototypes included', async () => {
    const body = { text: 'é'.repeat(10), nested: { constructor: { name: 'String' }, list: [1, null, true] } };
    await bodies.put('payload', { merchantId: 'mer_s3a', requestId: 'req_1' }, 'fp1', body);
    expect(await bodies.get('payload', { merchantId: 'mer_s3a', requestId: 'req_1' }, 'fp1')).toEqual({ value: body });
  });

  it('stores a 100 KB order compressed, in about a quarter of its JSON, marked as brotli, and reads it back', async () => {
    const order = orderPayload(100, { ms: 0 });
    const json = Buffer.byteLength(JSON.stringify(order));
    await bodies.put('payload', { merchantId: 'mer_s3z', requestId: 'req_z' }, 'fpz', order);
    const object = await rawObject('payload/mer_s3z/req_z/fpz');
    // Storage is billed by the stored byte: a real order's JSON compresses about 4 to 1.
    expect(object.bytes.length).toBeLessThan(json * 0.3);
    expect(object.metadata['body-encoding']).toBe('br');
    expect(JSON.parse(brotliDecompressSync(object.bytes).toString('utf8'))).toEqual(order);
    expect(await bodies.get('payload', { merchantId: 'mer_s3z', requestId: 'req_z' }, 'fpz')).toEqual({ value: order });
  });

  it('stores a body that brotli would not shrink as plain JSON', async () => {
    await bodies.put('result', { merchantId: 'mer_s3y', requestId: 'req_y' }, '1', 7);
    const object = await rawObject('result/mer_s3y/req_y/1');
    expect(object.bytes.toString('utf8')).toBe('7');
    expect(object.metadata['body-encoding']).toBeUndefined();
    expect(await bodies.get('result', { merchantId: 'mer_s3y', requestId: 'req_y' }, '1')).toEqual({ value: 7 });
  });

  it('reads an object written before compression, plain JSON without an encoding, as it was', async () => {
    const order = orderPayload(20, { ms: 0 });
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'payload/mer_s3x/req_x/fpx', Body: JSON.stringify(order), ContentType: 'application/json' }));
    expect(await bodies.get('payload', { merchantId: 'mer_s3x', requestId: 'req_x' }, 'fpx')).toEqual({ value: order });
  });

  it('keys each object by kind, merchant and request, so another merchant naming the same request finds nothing', async () => {
    await bodies.put('result', { merchantId: 'mer_s3b', requestId: 'req_2' }, '1', { ok: true });
    expect(await objectKeys('result/mer_s3b/')).toEqual(['result/mer_s3b/req_2/1']);
    expect(await bodies.get('result', { merchantId: 'mer_s3c', requestId: 'req_2' }, '1')).toBeUndefined();
  });

  it('keeps an id with a slash inside its own request prefix', async () => {
    await bodies.put('payload', { merchantId: 'mer_s3d', requestId: '../mer_s3e/req' }, 'fp', 1);
    expect(await objectKeys('payload/mer_s3e/')).toEqual([]);
    expect(await bodies.get('payload', { merchantId: 'mer_s3d', requestId: '../mer_s3e/req' }, 'fp')).toEqual({ value: 1 });
  });
});

describe('a request store with the bodies bucket', () => {
  // Random base64 does not compress: it stays over 4 KB whatever the item stores it as.
  const large = { filler: randomBytes(75 * 1024).toString('base64') };

  it('keeps a 100 KB payload in the bucket under its merchant and request, and the worker claims it with the payload', async () => {
    const request = storedRequest('req_s3_large', { merchantId: 'mer_s3f', payload: large });
    expect(await store.intake.create(request, 'fp-large')).toEqual({ outcome: 'created' });

    const { Item } = await dynamo.send(new GetCommand({ TableName: tableName, Key: keys.request(request.id), ConsistentRead: true }));
    expect(Item!.payload).toBeUndefined();
    // Every later write of the request item is billed for a small item (1 KB write units).
    expect(Buffer.byteLength(JSON.stringify(Item))).toBeLessThan(1024);
    const object = await rawObject('payload/mer_s3f/req_s3_large/fp-large');
    expect(JSON.parse(brotliDecompressSync(object.bytes).toString('utf8'))).toEqual(large);

    const claim = await claimRequest(store.lifecycle, request.id, { leaseMs: 10_000, maxAttempts: 3 }, 0);
    expect(claim).toMatchObject({ outcome: 'claimed', request: { payload: large } });
  });

  it('leaves a payload within 4 KB inline and writes no object', async () => {
    const request = storedRequest('req_s3_small', { merchantId: 'mer_s3g', payload: { text: 'x'.repeat(1000) } });
    await store.intake.create(request, 'fp-small');
    expect(await objectKeys('payload/mer_s3g/')).toEqual([]);
    expect(await store.queries.getSubmittedForMerchant('mer_s3g', request.id)).toMatchObject({ payload: { text: 'x'.repeat(1000) } });
  });

  it('shows a stored payload to its merchant only', async () => {
    const request = storedRequest('req_s3_owned', { merchantId: 'mer_s3h', payload: large });
    await store.intake.create(request, 'fp-owned');
    expect(await store.queries.getSubmittedForMerchant('mer_s3h', request.id)).toMatchObject({ payload: large });
    expect(await store.queries.getSubmittedForMerchant('mer_s3i', request.id)).toBeUndefined();
    expect(await store.queries.getForMerchant('mer_s3i', request.id)).toBeUndefined();
  });
});
