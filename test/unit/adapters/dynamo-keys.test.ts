import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import {
  deliveryFromItem,
  deliveryToItem,
  fingerprintFromItem,
  indexKeys,
  keys,
  requestFromItem,
  requestToItem,
  submissionToItem,
} from '../../../lambdas/adapters/dynamo/keys';
import type { HeraldRequest } from '../../../lambdas/core/requests/request';
import type { Delivery } from '../../../lambdas/core/webhooks/delivery';

const request: HeraldRequest = {
  id: 'req_1',
  merchantId: 'mer_a',
  type: 'echo',
  payload: { n: 1 },
  status: 'accepted',
  version: 1,
  attempts: 0,
  idempotencyKey: 'k-1',
  webhookEvents: true,
  history: [{ from: null, to: 'accepted', at: '2026-11-30T12:00:00.000Z', attempt: 0 }],
  createdAt: '2026-11-30T12:00:00.000Z',
  updatedAt: '2026-11-30T12:00:00.000Z',
};

// FNV-1a of 'dlv_req_1.ep_1.succeeded' is 0x6b1c8922: shard 34 of 128 pending shards, 2 of 16 log shards.
const PENDING_SHARD = 34;
const LOG_SHARD = 2;

describe('the keys module', () => {
  it('reads a request back exactly as written, without its key and index attributes', () => {
    const item = requestToItem(request);
    // FNV-1a of 'req_1' is 0xce9abdaf: shard 15 of the 16 list shards, 47 of the 128 status shards.
    expect(item).toMatchObject({ ...keys.request('req_1'), gsi1pk: 'MER#mer_a#15', gsi1sk: '2026-11-30T12:00:00.000Z#req_1', gsi2pk: 'STATUS#accepted#47' });
    // As DynamoDB holds it: the item goes through the SDK's marshaller and back.
    const stored = unmarshall(marshall(item, { removeUndefinedValues: true }));
    expect(requestFromItem({ ...stored, expiresAt: 123 })).toEqual(request);
  });

  it('writes a payload whose member is named constructor so that it reads back as it was', () => {
    const payload = { constructor: { name: 'String' }, list: [{ constructor: 1 }] };
    const item = marshall(requestToItem({ ...request, payload }), { removeUndefinedValues: true });
    expect(requestFromItem(unmarshall(item)).payload).toEqual(payload);
  });

  it('reads a payload written before compression, a plain map whose member is named constructor, as it was', () => {
    const payload = { constructor: { name: 'String' }, list: [{ constructor: 1 }] };
    const plain = { M: { constructor: { M: { name: { S: 'String' } } }, list: { L: [{ M: { constructor: { N: '1' } } }] } } };
    const item = { ...marshall(requestToItem(request), { removeUndefinedValues: true }), payload: plain };
    expect(requestFromItem(unmarshall(item)).payload).toEqual(payload);
  });

  it('keeps a body fingerprint once, in 32 bytes, and reads it back as written, old hex items included', () => {
    const digest = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    const stored = marshall(submissionToItem(request, digest), { removeUndefinedValues: true });
    expect(stored.fingerprint).toEqual({ B: Buffer.from(digest, 'hex') });
    expect(fingerprintFromItem(unmarshall(stored))).toBe(digest);

    const apart = unmarshall(marshall(submissionToItem(request, digest, { inObject: true }), { removeUndefinedValues: true }));
    expect(apart.fingerprint).toBeUndefined();
    expect(fingerprintFromItem(apart)).toBe(digest);

    expect(fingerprintFromItem({ ...requestToItem(request), fingerprint: digest })).toBe(digest);
  });

  it('leaves a finished request out of the sweepers index', () => {
    const item = requestToItem({ ...request, status: 'succeeded' });
    expect(item.gsi2pk).toBeUndefined();
    expect(item.gsi1pk).toBe('MER#mer_a#15');
  });

  it('files a test event delivery apart from request partitions', () => {
    expect(keys.delivery('evt_1', 'ep_1', 'webhook.test').pk).not.toBe(keys.delivery('evt_1', 'ep_1', 'request.succeeded').pk);
    expect(keys.delivery('req_1', 'ep_1', 'request.succeeded').pk).toBe(keys.request('req_1').pk);
  });

  it('reads a delivery back without its index attributes', () => {
    const delivery: Delivery = {
      id: 'dlv_req_1.ep_1.succeeded',
      merchantId: 'mer_a',
      endpointId: 'ep_1',
      subjectId: 'req_1',
      eventType: 'request.succeeded',
      eventTimestamp: '2026-11-30T12:00:00.000Z',
      state: 'pending',
      round: 1,
      attempts: [],
      createdAt: '2026-11-30T12:00:00.000Z',
      updatedAt: '2026-11-30T12:00:00.000Z',
    };
    const item = deliveryToItem(delivery);
    expect(item.gsi2pk).toBe(`DLV#pending#${PENDING_SHARD}`);
    expect(item.gsi1pk).toBe(`WH#ep_1#${LOG_SHARD}`);
    expect(deliveryFromItem(item)).toEqual(delivery);
  });

  it('splits a list position back into its time and id', () => {
    expect(indexKeys.parsePosition('2026-11-30T12:00:00.000Z#req_1')).toEqual({ createdAt: '2026-11-30T12:00:00.000Z', id: 'req_1' });
  });
});
