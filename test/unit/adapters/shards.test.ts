import { indexKeys } from '../../../lambdas/adapters/dynamo/keys';
import { allShards, fnv1a32, shardOf } from '../../../lambdas/adapters/dynamo/shards';
import { table } from '../../../lambdas/settings/storage';

describe('the shard of an id', () => {
  // The published FNV-1a 32-bit test vectors (Fowler, Noll, Vo: offset basis 0x811c9dc5, prime 0x01000193).
  it.each([
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ])('hashes %j to the published FNV-1a value', (text, expected) => {
    expect(fnv1a32(text)).toBe(expected);
  });

  it('is the hash modulo the shard count', () => {
    expect(shardOf('a', 16)).toBe(0xe40c292c % 16);
    expect(shardOf('foobar', 16)).toBe(8);
    expect(shardOf('foobar', 128)).toBe(104);
    expect(shardOf('anything', 1)).toBe(0);
  });

  it('hashes the UTF-8 bytes, not UTF-16 code units', () => {
    // 'é' is 0xc3 0xa9 in UTF-8: FNV-1a over those two bytes, computed step by step.
    const step = (hash: number, byte: number) => Math.imul(hash ^ byte, 0x01000193) >>> 0;
    expect(fnv1a32('é')).toBe(step(step(0x811c9dc5, 0xc3), 0xa9));
  });

  it('refuses a shard count that is not a positive integer', () => {
    expect(() => shardOf('a', 0)).toThrow(RangeError);
    expect(() => shardOf('a', 2.5)).toThrow(RangeError);
  });

  it('spreads generated ids evenly: no shard of 16 gets twice its share of 16,000 ids', () => {
    const counts = new Array<number>(16).fill(0);
    for (let n = 0; n < 16_000; n++) counts[shardOf(`req_${n.toString(36).padStart(26, '0')}`, 16)]!++;
    expect(Math.max(...counts)).toBeLessThan(2 * 1_000);
    expect(Math.min(...counts)).toBeGreaterThan(1_000 / 2);
  });
});

describe('the sharded index keys', () => {
  it('lists every shard of a status and then its unsharded key, for entries written before the shards', () => {
    const partitions = indexKeys.statusPartitions('accepted');
    expect(partitions).toHaveLength(table.shards.byStatus + 1);
    expect(partitions[0]).toBe('STATUS#accepted#0');
    expect(partitions.at(-2)).toBe(`STATUS#accepted#${table.shards.byStatus - 1}`);
    expect(partitions.at(-1)).toBe('STATUS#accepted');
    expect(allShards(3)).toEqual([0, 1, 2]);
  });

  it('keeps a request in the same status shard whatever its status or sweep time', () => {
    const accepted = indexKeys.requestStatus('foobar', 'accepted', '2026-12-01T00:00:00.000Z');
    const processing = indexKeys.requestStatus('foobar', 'processing', '2026-12-01T00:05:00.000Z');
    expect(accepted).toEqual({ gsi2pk: 'STATUS#accepted#104', gsi2sk: '2026-12-01T00:00:00.000Z#foobar' });
    expect(processing.gsi2pk).toBe('STATUS#processing#104');
  });

  it('files a merchant\'s requests and an endpoint\'s deliveries under the shard of their own id', () => {
    expect(indexKeys.requestListing('mer_a', '2026-12-01T00:00:00.000Z', 'foobar')).toEqual({ gsi1pk: 'MER#mer_a#8', gsi1sk: '2026-12-01T00:00:00.000Z#foobar' });
    expect(indexKeys.deliveryLogEntry('ep_1', '2026-12-01T00:00:00.000Z', 'a').gsi1pk).toBe('WH#ep_1#12');
    expect(indexKeys.pendingDelivery('a', '2026-12-01T00:00:00.000Z').gsi2pk).toBe('DLV#pending#44');
  });
});
