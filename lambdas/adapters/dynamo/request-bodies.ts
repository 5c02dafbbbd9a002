import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { HeraldRequest } from '../../core/requests/request';
import { epochSecondsNow } from './conditions';
import { asDocumentValue } from './document-values';
import { keys, PAYLOAD_REF, requestFromItem, RESULT_REF, type Item } from './keys';

/**
 * A payload or result whose JSON is larger than this is stored in an item of its own, written
 * once, so that every later write of the request item (claim, finish) is billed for a small item.
 */
export const INLINE_BODY_MAX_BYTES = 4 * 1024;

/** Whether a payload or result goes to an item of its own. */
export function storedApart(value: unknown): boolean {
  return Buffer.byteLength(JSON.stringify(value ?? null), 'utf8') > INLINE_BODY_MAX_BYTES;
}

const DAY_SECONDS = 86_400;

/**
 * The payloads and results kept apart from their request items: written before the request item
 * that points at them, so a crash in between leaves an orphan that its TTL removes, never a
 * request pointing at nothing. Each carries a TTL outliving its request's: a payload twice the
 * retention from submission (a request is open minutes, rarely days; one kept open longer by
 * repeated redrives fails `payload_unavailable`), a result one day past its request's own expiry.
 */
export class RequestBodies {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays: number,
  ) {}

  async putPayload(requestId: string, fingerprint: string, payload: unknown): Promise<void> {
    const expiresAt = epochSecondsNow() + 2 * this.retentionDays * DAY_SECONDS;
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { ...keys.requestPayload(requestId, fingerprint), payload: asDocumentValue(payload), expiresAt } }),
    );
  }

  async putResult(requestId: string, attempt: number, result: unknown): Promise<void> {
    const expiresAt = epochSecondsNow() + (this.retentionDays + 1) * DAY_SECONDS;
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: { ...keys.requestResult(requestId, attempt), result: asDocumentValue(result), expiresAt } }));
  }

  /** The request with its payload, read from its own item when stored apart (the worker's claim). */
  async withPayload(item: Item): Promise<HeraldRequest> {
    const request = requestFromItem(item);
    if (typeof item[PAYLOAD_REF] !== 'string') return request;
    const stored = await this.read(keys.requestPayload(request.id, item[PAYLOAD_REF]));
    return stored === undefined ? request : { ...request, payload: stored.payload };
  }

  /** The request with its result, read from its own item when stored apart (status, event bodies). */
  async withResult(item: Item): Promise<HeraldRequest> {
    const request = requestFromItem(item);
    if (typeof item[RESULT_REF] !== 'number') return request;
    const stored = await this.read(keys.requestResult(request.id, item[RESULT_REF]));
    return stored === undefined ? request : { ...request, result: stored.result };
  }

  /**
   * These items never change once written, so an eventually consistent read (half the units of a
   * strong one, which counts for 100 KB) is right whenever it finds the item; only a miss, which
   * may be a write not yet visible, is asked again strongly.
   */
  private async read(key: { pk: string; sk: string }): Promise<Item | undefined> {
    const get = async (ConsistentRead: boolean) => (await this.client.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead }))).Item;
    const item = (await get(false)) ?? (await get(true));
    // DynamoDB deletes expired items lazily: one past its TTL counts as gone.
    if (!item || (typeof item.expiresAt === 'number' && item.expiresAt <= epochSecondsNow())) return undefined;
    return item;
  }
}
