/**
 * Write sharding of the index keys that many items share. DynamoDB serves at most 1,000 write
 * units and 3,000 read units a second on one partition key value, in the table and in every
 * index, and cannot split a value whose sort key only grows; a key every request (or every
 * request of one merchant) writes is therefore spread over `<prefix>#<shard>` values, and its
 * readers query all of them. The shard of an item comes from its own id, never from a counter
 * or the clock, so every writer of the item (and every rewrite of its index keys) lands on the
 * same shard without reading anything first.
 */

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * FNV-1a, 32 bits, over the UTF-8 bytes of `text`: small, stable across runtimes and versions
 * (the shard of an item must never change once written), and well spread for ids that differ in
 * their last characters. Not a security boundary: ids are not secret.
 *
 * @example fnv1a32('a') === 0xe40c292c
 */
export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash >>> 0;
}

/**
 * The shard, from 0 to `count - 1`, that an item with this id is written to.
 *
 * @example shardOf('foobar', 16) === 8   // 0xbf9cf968 % 16
 */
export function shardOf(id: string, count: number): number {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`A shard count must be a positive integer, not ${count}`);
  return fnv1a32(id) % count;
}

/** Every shard number of a key spread over `count` shards, in order. */
export function allShards(count: number): number[] {
  return Array.from({ length: count }, (_, shard) => shard);
}
