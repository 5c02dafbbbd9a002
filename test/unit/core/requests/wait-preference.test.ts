import { parseWaitPreference, preferenceApplied } from '../../../../lambdas/core/requests/wait-preference';

describe('parseWaitPreference (RFC 7240)', () => {
  it.each([
    ['respond-async, wait=100', 20, { waitSeconds: 20, respondAsync: true }],
    ['wait=5', 20, { waitSeconds: 5, respondAsync: false }],
    ['RESPOND-ASYNC, Wait=3', 20, { waitSeconds: 3, respondAsync: true }],
    ['wait="7"', 20, { waitSeconds: 7, respondAsync: false }],
    ['wait=4; ignored=x, respond-async', 20, { waitSeconds: 4, respondAsync: true }],
    ['wait=2, wait=9', 20, { waitSeconds: 2, respondAsync: false }],
    ['handling=lenient', 20, { waitSeconds: 0, respondAsync: false }],
    ['wait=soon', 20, { waitSeconds: 0, respondAsync: false }],
    ['wait=-1', 20, { waitSeconds: 0, respondAsync: false }],
    ['wait=1.5', 20, { waitSeconds: 0, respondAsync: false }],
    ['wait=', 20, { waitSeconds: 0, respondAsync: false }],
    ['respond-async=yes', 20, { waitSeconds: 0, respondAsync: false }],
    ['wait=99999999999999999999', 20, { waitSeconds: 0, respondAsync: false }],
  ])('reads %j (limit %i s) as %j', (header, limit, expected) => {
    expect(parseWaitPreference(header, limit)).toEqual(expected);
  });

  it('ignores an absent or absurdly long header', () => {
    expect(parseWaitPreference(undefined, 20)).toEqual({ waitSeconds: 0, respondAsync: false });
    expect(parseWaitPreference(`wait=5,${' '.repeat(2_000)}`, 20)).toEqual({ waitSeconds: 0, respondAsync: false });
  });
});

describe('preferenceApplied', () => {
  it('names what was honoured, in the order RFC 7240 shows', () => {
    expect(preferenceApplied({ respondAsync: true, waitSeconds: 5 })).toBe('respond-async, wait=5');
    expect(preferenceApplied({ waitSeconds: 5 })).toBe('wait=5');
    expect(preferenceApplied({ respondAsync: true, waitSeconds: 0 })).toBe('respond-async');
    expect(preferenceApplied({})).toBeUndefined();
  });
});
