import { heatByShape, keyShapeOf, type HeatSample } from '../../../bench/support/partition-heat';

describe('the partition-heat meter', () => {
  it.each([
    ['STATUS#accepted#17', 'STATUS#accepted#<shard>'],
    ['MER#mer_01jexample#3', 'MER#<id>#<shard>'],
    ['REQ#req_0123456789abcdefghijklmnop', 'REQ#<id>'],
    [`KEY#${'ab'.repeat(32)}`, 'KEY#<hash>'],
    ['CONFIG#status-token-secret', 'CONFIG#status-token-secret'],
    ['DLV#pending', 'DLV#pending'],
  ])('names the shape of %s as %s', (value, shape) => {
    expect(keyShapeOf(value)).toBe(shape);
  });

  it('finds the hottest value of each shape and the rate it allows at 1,000 write and 3,000 read units a second', () => {
    const samples: HeatSample[] = [
      // 10 requests: shard 1 takes 4 write units in all, shard 2 takes 1.
      ...Array.from({ length: 4 }, () => ({ place: 'byStatus', value: 'STATUS#accepted#1', readUnits: 0, writeUnits: 1 })),
      { place: 'byStatus', value: 'STATUS#accepted#2', readUnits: 0, writeUnits: 1 },
      // One item every request reads: 10 reads of 1.5 units.
      ...Array.from({ length: 10 }, () => ({ place: 'table', value: 'CONFIG#x', readUnits: 1.5, writeUnits: 0 })),
    ];
    const heat = heatByShape(samples, 10, new Set());
    const status = heat.find((shape) => shape.shape === 'STATUS#accepted#<shard>')!;
    // 0.4 write units per request on shard 1: 1,000 / 0.4 = 2,500 requests a second.
    expect(status).toMatchObject({ values: 2, writeUnitsPerRequest: 0.4, ceiling: 2_500, binding: 'write', ownKeys: false });
    // 1.5 read units per request: 3,000 / 1.5 = 2,000, the lower of the two, listed first.
    expect(heat[0]).toMatchObject({ shape: 'CONFIG#x', readUnitsPerRequest: 1.5, ceiling: 2_000, binding: 'read' });
  });

  it('sets no ceiling from a request\'s own key, however many units it takes', () => {
    const samples: HeatSample[] = [
      { place: 'table', value: 'REQ#req_a', readUnits: 0, writeUnits: 7 },
      { place: 'table', value: 'REQ#req_b', readUnits: 0, writeUnits: 7 },
      { place: 'byMerchant', value: 'MER#mer_a#0', readUnits: 0, writeUnits: 2 },
    ];
    const heat = heatByShape(samples, 2, new Set(['req_a', 'req_b']));
    expect(heat.map((shape) => shape.shape)).toEqual(['MER#<id>#<shard>', 'REQ#<id>']);
    expect(heat[1]).toMatchObject({ ownKeys: true, writeUnitsPerRequest: 3.5 });
  });
});
