import { canonicalJson, fingerprint } from '../../../../lambdas/core/shared/fingerprint';

describe('fingerprint', () => {
  it('ignores object key order at every depth', () => {
    expect(fingerprint({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(
      fingerprint({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }),
    );
  });

  it('tells apart bodies that differ in a value or in array order', () => {
    expect(fingerprint({ a: [1, 2] })).not.toBe(fingerprint({ a: [2, 1] }));
    expect(fingerprint({ a: 1 })).not.toBe(fingerprint({ a: '1' }));
  });

  it('serializes canonically', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] })).toBe('{"a":[2,{"c":4,"d":3}],"b":1}');
  });
});
