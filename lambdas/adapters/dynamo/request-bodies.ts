import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { HeraldRequest } from '../../core/requests/request';
import type { BodyOwner, S3RequestBodies } from '../s3-request-bodies';
import { epochSecondsNow } from './conditions';
import { asDocumentValue } from './document-values';
import { inlineBody } from './inline-bodies';
import { keys, PAYLOAD_IN_OBJECT, PAYLOAD_REF, requestFromItem, RESULT_IN_OBJECT, RESULT_REF, type Item } from './keys';

/**
 * A payload or result whose JSON is larger than this is stored apart from its request item, written
 * once, so that every later write of the request item (claim, finish) is billed for a small item.
 * Apart means the bodies bucket when the deployment has one (every stack and the local runtime do),
 * otherwise an item of its own beside the request. The bucket wins from here up: an S3 PUT and GET
 * cost $5.40 per million bodies and storage $0.023 per GB-month, where an item of 4 KB or more
 * costs at least 4 write units ($2.50 per million) plus $0.45 per GB-month of storage and recovery,
 * kept up to twice the retention: about even at 4 KB, and S3 ever cheaper above (docs/performance.md).
 */
export const INLINE_BODY_MAX_BYTES = 4 * 1024;

/**
 * Whether a payload or result goes apart from its request item: by the bytes it would add to the
 * item, compressed when that is smaller (inline-bodies.ts), since those are what each write bills.
 */
export function storedApart(value: unknown): boolean {
  return inlineBody(value).bytes > INLINE_BODY_MAX_BYTES;
}

const DAY_SECONDS = 86_400;

/** Where a body stored apart went: which attribute the request item then carries beside its reference. */
export type StoredApart = { readonly inObject: boolean };

/**
 * The payloads and results kept apart from their request items: written before the request item
 * that points at them, so a crash in between leaves an orphan that its TTL (or the bucket's
 * lifecycle rule) removes, never a request pointing at nothing. Each outlives its request: a
 * payload twice the retention from submission (a request is open minutes, rarely days; one kept
 * open longer by repeated redrives fails `payload_unavailable`), a result one day past its
 * request's own expiry. Objects are keyed by the request's merchant and id, read only from the
 * request item that names them, so a body is read only for its own request.
 */
export class RequestBodies {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays: number,
    /** The bodies bucket; without it bodies apart are items of the table. */
    private readonly objects?: S3RequestBodies,
  ) {}

  async putPayload(owner: BodyOwner, fingerprint: string, payload: unknown): Promise<StoredApart> {
    if (this.objects) {
      await this.objects.put('payload', owner, fingerprint, payload);
      return { inObject: true };
    }
    const expiresAt = epochSecondsNow() + 2 * this.retentionDays * DAY_SECONDS;
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { ...keys.requestPayload(owner.requestId, fingerprint), payload: asDocumentValue(payload), expiresAt } }),
    );
    return { inObject: false };
  }

  async putResult(owner: BodyOwner, attempt: number, result: unknown): Promise<StoredApart> {
    if (this.objects) {
      await this.objects.put('result', owner, String(attempt), result);
      return { inObject: true };
    }
    const expiresAt = epochSecondsNow() + (this.retentionDays + 1) * DAY_SECONDS;
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { ...keys.requestResult(owner.requestId, attempt), result: asDocumentValue(result), expiresAt } }),
    );
    return { inObject: false };
  }

  /** The request with its payload, read from where it was stored apart (the worker's claim). */
  async withPayload(item: Item): Promise<HeraldRequest> {
    const request = requestFromItem(item);
    const fingerprint = item[PAYLOAD_REF];
    if (typeof fingerprint !== 'string') return request;
    const stored =
      item[PAYLOAD_IN_OBJECT] === true
        ? await this.readObject(item, 'payload', fingerprint)
        : await this.read(keys.requestPayload(request.id, fingerprint), 'payload');
    return stored === undefined ? request : { ...request, payload: stored.value as HeraldRequest['payload'] };
  }

  /** The request with its result, read from where it was stored apart (status, event bodies). */
  async withResult(item: Item): Promise<HeraldRequest> {
    const request = requestFromItem(item);
    const attempt = item[RESULT_REF];
    if (typeof attempt !== 'number') return request;
    const stored =
      item[RESULT_IN_OBJECT] === true
        ? await this.readObject(item, 'result', String(attempt))
        : await this.read(keys.requestResult(request.id, attempt), 'result');
    return stored === undefined ? request : { ...request, result: stored.value };
  }

  /**
   * The object a request item names, under that item's own merchant and id. An item past its TTL
   * (DynamoDB deletes lazily) counts as gone, and so does its body: the object may have expired
   * before the item is deleted.
   */
  private async readObject(item: Item, kind: 'payload' | 'result', name: string): Promise<{ value: unknown } | undefined> {
    if (!this.objects) throw new BodiesBucketMissingError(String(item.id));
    if (typeof item.expiresAt === 'number' && item.expiresAt <= epochSecondsNow()) return undefined;
    return this.objects.get(kind, { merchantId: String(item.merchantId), requestId: String(item.id) }, name);
  }

  /**
   * These items never change once written, so an eventually consistent read (half the units of a
   * strong one, which counts for 100 KB) is right whenever it finds the item; only a miss, which
   * may be a write not yet visible, is asked again strongly.
   */
  private async read(key: { pk: string; sk: string }, attribute: 'payload' | 'result'): Promise<{ value: unknown } | undefined> {
    const get = async (ConsistentRead: boolean) => (await this.client.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead }))).Item;
    const item = (await get(false)) ?? (await get(true));
    // DynamoDB deletes expired items lazily: one past its TTL counts as gone.
    if (!item || (typeof item.expiresAt === 'number' && item.expiresAt <= epochSecondsNow())) return undefined;
    return { value: item[attribute] };
  }
}

/** A request item names a body in the bodies bucket, and this reader was given no bucket. */
export class BodiesBucketMissingError extends Error {
  constructor(requestId: string) {
    super(`Request ${requestId} keeps a body in the bodies bucket, and no bucket is configured (HERALD_BODIES_BUCKET)`);
    this.name = 'BodiesBucketMissingError';
  }
}
