import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Item, Key } from './keys';

/** BatchGetItem takes at most this many keys a call. */
export const BATCH_GET_MAX_KEYS = 100;
/** Further calls for keys DynamoDB left unprocessed (throttling, 16 MB answers) before giving up. */
export const UNPROCESSED_RETRIES = 5;
/** The first wait before asking again for unprocessed keys; it doubles each time, with full jitter. */
const UNPROCESSED_BASE_DELAY_MS = 25;

/**
 * DynamoDB kept leaving keys unprocessed: the caller's read is incomplete, and answering with a
 * partial list would silently drop work (a sweep) or rows (a page), so it fails loudly instead.
 */
export class UnprocessedKeysError extends Error {
  override readonly name = 'UnprocessedKeysError';

  constructor(
    readonly tableName: string,
    readonly unprocessed: number,
  ) {
    super(`BatchGetItem left ${unprocessed} keys of ${tableName} unprocessed after ${UNPROCESSED_RETRIES} retries`);
  }
}

export interface BatchGetOptions {
  /** Strongly consistent reads (twice the read units): for readers that act on what they read. */
  readonly consistentRead?: boolean;
  /** Waits between retries; tests pass one that does not sleep. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * The items at `keys`, in the order of the keys: the indexes project keys only, so every reader
 * of an index fetches what it found here. An item deleted meanwhile (TTL, or any change between
 * the index read and this one) comes back `undefined` in its place; callers decide what a
 * missing or changed item means to them.
 */
export async function batchGetInOrder(
  client: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Key[],
  options: BatchGetOptions = {},
): Promise<(Item | undefined)[]> {
  const found = new Map<string, Item>();
  // A key asked twice is fetched once: BatchGetItem refuses duplicate keys in one call.
  const unique = [...new Map(keys.map((key) => [identity(key), key])).values()];
  for (let start = 0; start < unique.length; start += BATCH_GET_MAX_KEYS) {
    await fetchChunk(client, tableName, unique.slice(start, start + BATCH_GET_MAX_KEYS), options, found);
  }
  return keys.map((key) => found.get(identity(key)));
}

async function fetchChunk(
  client: DynamoDBDocumentClient,
  tableName: string,
  chunk: readonly Key[],
  options: BatchGetOptions,
  found: Map<string, Item>,
): Promise<void> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let pending: Record<string, unknown>[] = chunk.map((key) => ({ pk: key.pk, sk: key.sk }));
  for (let call = 0; pending.length > 0; call++) {
    if (call > UNPROCESSED_RETRIES) throw new UnprocessedKeysError(tableName, pending.length);
    if (call > 0) await sleep(Math.random() * UNPROCESSED_BASE_DELAY_MS * 2 ** (call - 1));
    const { Responses, UnprocessedKeys } = await client.send(
      new BatchGetCommand({
        RequestItems: { [tableName]: { Keys: pending, ...(options.consistentRead ? { ConsistentRead: true } : {}) } },
      }),
    );
    for (const item of Responses?.[tableName] ?? []) found.set(identity(item as Key), item);
    pending = (UnprocessedKeys?.[tableName]?.Keys ?? []) as Record<string, unknown>[];
  }
}

function identity(key: Pick<Key, 'pk' | 'sk'>): string {
  return `${key.pk}\u0000${key.sk}`;
}
