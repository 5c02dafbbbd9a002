import fc from 'fast-check';
import { ValidationError } from '../../../../lambdas/core/shared/errors';
import { evaluateFilter, FILTER_LIMITS, matchesFilter, parseFilter, testFilter, type WebhookFilter } from '../../../../lambdas/core/webhooks/webhook-filter';

const event = {
  type: 'request.succeeded',
  timestamp: '2026-01-01T00:00:00.000Z',
  data: { id: 'req_1', type: 'order.process', status: 'succeeded', result: { total: 120, currency: 'EUR', tags: ['vip', 'eu'] } },
};

const matches = (filter: unknown, on: unknown = event) => evaluateFilter(parseFilter(filter), on);

describe('payload filters, by example', () => {
  it.each([
    [{ 'data.type': { $eq: 'order.process' } }, true],
    [{ 'data.type': { $neq: 'order.process' } }, false],
    [{ 'data.result.total': { $gt: 100, $lte: 120 } }, true],
    [{ 'data.result.total': { $lt: 120 } }, false],
    [{ 'data.result.currency': { $in: ['USD', 'EUR'] } }, true],
    [{ 'data.result.currency': { $nin: ['USD', 'EUR'] } }, false],
    [{ 'data.result.refund': { $exists: false } }, true],
    [{ 'data.result.total': { $exists: false } }, false],
    [{ 'data.type': { $startsWith: 'order.' } }, true],
    [{ 'data.type': { $startsWith: 'order.process.' } }, false],
    // An array matches when one of its elements does, as in MongoDB.
    [{ 'data.result.tags': { $eq: 'vip' } }, true],
    [{ $or: [{ 'data.type': { $eq: 'wallet.debit' } }, { 'data.result.total': { $gte: 100 } }] }, true],
    [{ $not: { 'data.status': { $eq: 'failed' } } }, true],
    [{ $and: [{ type: { $eq: 'request.succeeded' } }, { $not: { 'data.result.total': { $gt: 50 } } }] }, false],
  ])('%j matches: %s', (filter, expected) => {
    expect(matches(filter).matches).toBe(expected);
  });

  it('compares numbers with numbers and strings with strings only', () => {
    expect(matches({ 'data.result.total': { $gt: '100' } }).matches).toBe(false);
    expect(matches({ timestamp: { $gte: '2026-01-01' } }).matches).toBe(true);
  });

  it('takes $startsWith literally, whatever characters the prefix holds', () => {
    expect(matches({ 'data.id': { $startsWith: '.*' } }, { data: { id: 'req_1' } }).matches).toBe(false);
    expect(matches({ 'data.id': { $startsWith: '(a+)+$[' } }, { data: { id: '(a+)+$[x' } }).matches).toBe(true);
  });

  it('names the first failing condition in the filter\'s order', () => {
    expect(matches({ 'data.type': { $eq: 'order.process' }, 'data.result.total': { $gte: 500 }, 'data.status': { $eq: 'failed' } })).toEqual({
      matches: false,
      failedAt: 'data.result.total',
    });
    expect(matches({ $and: [{ type: { $exists: true } }, { 'data.result.currency': { $eq: 'USD' } }] })).toEqual({
      matches: false,
      failedAt: '$and[1].data.result.currency',
    });
    expect(matches({ $or: [{ 'data.type': { $eq: 'a' } }, { 'data.type': { $eq: 'b' } }] })).toEqual({ matches: false, failedAt: '$or' });
    expect(matches({ $not: { 'data.type': { $eq: 'order.process' } } })).toEqual({ matches: false, failedAt: '$not' });
  });
});

describe('payload filter validation', () => {
  const problems = (filter: unknown) => {
    try {
      parseFilter(filter);
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      return (error as ValidationError).errors;
    }
    throw new Error('the filter was accepted');
  };

  it('names an unknown operator and where it is', () => {
    expect(problems({ 'data.type': { $regex: '.*' } })).toEqual([{ path: '/filter/data.type', message: expect.stringContaining('unknown operator $regex') }]);
  });

  it('refuses operators outside a path, bad paths and values of the wrong kind', () => {
    expect(problems({ $where: 'this.a' })[0]!.path).toBe('/filter/$where');
    expect(problems({ 'data..type': { $eq: 1 } })[0]!.path).toBe('/filter/data..type');
    expect(problems({ 'data.__proto__.x': { $eq: 1 } })[0]!.path).toBe('/filter/data.__proto__.x');
    expect(problems({ 'data.type': { $eq: { nested: true } } })[0]!.path).toBe('/filter/data.type/$eq');
    expect(problems({ 'data.type': { $exists: 'yes' } })[0]!.path).toBe('/filter/data.type/$exists');
    expect(problems({ 'data.type': {} })[0]!.path).toBe('/filter/data.type');
    expect(problems({ $or: [] })[0]!.path).toBe('/filter/$or');
    expect(problems([{ a: { $eq: 1 } }])[0]!.path).toBe('/filter');
  });

  it(`refuses a filter nested deeper than ${FILTER_LIMITS.maxDepth} levels`, () => {
    let filter: unknown = { a: { $eq: 1 } };
    for (let i = 0; i < FILTER_LIMITS.maxDepth; i++) filter = { $not: filter };
    expect(problems(filter)[0]!.message).toMatch(/nests deeper than 5 levels/);
    let allowed: unknown = { a: { $eq: 1 } };
    for (let i = 0; i < FILTER_LIMITS.maxDepth - 1; i++) allowed = { $not: allowed };
    expect(() => parseFilter(allowed)).not.toThrow();
  });

  it(`refuses more than ${FILTER_LIMITS.maxConditions} conditions and more than ${FILTER_LIMITS.maxBytes} bytes`, () => {
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`data.f${i}`, { $eq: i }]));
    expect(problems(many)).toEqual([{ path: '/filter', message: 'holds 51 conditions; a filter holds at most 50' }]);
    const large = { $or: Array.from({ length: 20 }, (_, i) => ({ [`data.${'x'.repeat(60)}${i}`]: { $in: ['y'.repeat(200)] } })) };
    expect(problems(large)[0]).toEqual({ path: '/filter', message: expect.stringMatching(/bytes as JSON; a filter is at most 4096/) });
  });

  it('answers a dry run without a filter or an event with both paths', () => {
    expect(() => testFilter({ event: {} })).toThrow(ValidationError);
    try {
      testFilter({ extra: 1 });
    } catch (error) {
      expect((error as ValidationError).errors.map((e) => e.path)).toEqual(['/filter', '/event', '/extra']);
    }
  });
});

// --- properties, against a model written from the operators' definitions -------------------------

const PATHS = ['data.a', 'data.b', 'data.c.d'] as const;
type Value = string | number | boolean;
const value: fc.Arbitrary<Value> = fc.oneof(fc.constantFrom('x', 'xy', 'y', '.*', ''), fc.integer({ min: -3, max: 3 }), fc.boolean());
const eventArb = fc.record(
  { a: value, b: value, c: fc.record({ d: value }, { requiredKeys: [] }) },
  { requiredKeys: [] },
).map((data) => ({ type: 'request.succeeded', data }));

const at = (on: { data: Record<string, any> }, path: string): unknown => path.split('.').slice(1).reduce<any>((node, key) => (node === undefined ? undefined : node[key]), on.data);

type Leaf = { path: (typeof PATHS)[number]; op: string; operand: any };
const leaf: fc.Arbitrary<Leaf> = fc.oneof(
  fc.record({ path: fc.constantFrom(...PATHS), op: fc.constantFrom('$eq', '$neq'), operand: value }),
  fc.record({ path: fc.constantFrom(...PATHS), op: fc.constantFrom('$in', '$nin'), operand: fc.array(value, { minLength: 1, maxLength: 3 }) }),
  fc.record({ path: fc.constantFrom(...PATHS), op: fc.constantFrom('$gt', '$gte', '$lt', '$lte'), operand: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom('x', 'xy')) }),
  fc.record({ path: fc.constantFrom(...PATHS), op: fc.constant('$exists'), operand: fc.boolean() }),
  fc.record({ path: fc.constantFrom(...PATHS), op: fc.constant('$startsWith'), operand: fc.constantFrom('x', '.', '.*', 'xy') }),
);

/** The operators' meaning on scalar values, written from the documentation, not from the code. */
function modelLeaf({ path, op, operand }: Leaf, on: { data: Record<string, any> }): boolean {
  const v = at(on, path);
  const sameKind = typeof v === typeof operand;
  switch (op) {
    case '$eq': return v === operand;
    case '$neq': return v !== operand;
    case '$in': return (operand as Value[]).includes(v as Value);
    case '$nin': return !(operand as Value[]).includes(v as Value);
    case '$gt': return sameKind && (v as any) > operand;
    case '$gte': return sameKind && (v as any) >= operand;
    case '$lt': return sameKind && (v as any) < operand;
    case '$lte': return sameKind && (v as any) <= operand;
    case '$exists': return (v !== undefined) === operand;
    case '$startsWith': return typeof v === 'string' && v.startsWith(operand);
    default: throw new Error(op);
  }
}

type Tree = { leaf: Leaf } | { and: Tree[] } | { or: Tree[] } | { not: Tree };
const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ leaf }),
    fc.record({ and: fc.array(tie('tree'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ or: fc.array(tie('tree'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ not: tie('tree') }),
  ),
}));

const depthOf = (t: Tree): number => ('leaf' in t ? 1 : 'not' in t ? 1 + depthOf(t.not) : 1 + Math.max(...('and' in t ? t.and : t.or).map(depthOf)));
const leavesOf = (t: Tree): number => ('leaf' in t ? 1 : 'not' in t ? leavesOf(t.not) : ('and' in t ? t.and : t.or).reduce((n, c) => n + leavesOf(c), 0));
const toFilter = (t: Tree): WebhookFilter =>
  'leaf' in t ? { [t.leaf.path]: { [t.leaf.op]: t.leaf.operand } } : 'not' in t ? { $not: toFilter(t.not) } : 'and' in t ? { $and: t.and.map(toFilter) } : { $or: t.or.map(toFilter) };
const model = (t: Tree, on: { data: Record<string, any> }): boolean =>
  'leaf' in t ? modelLeaf(t.leaf, on) : 'not' in t ? !model(t.not, on) : 'and' in t ? t.and.every((c) => model(c, on)) : t.or.some((c) => model(c, on));

const boundedTree = tree.filter((t) => depthOf(t) <= FILTER_LIMITS.maxDepth);

describe('payload filter properties', () => {
  it('every operator agrees with its definition', () => {
    fc.assert(fc.property(leaf, eventArb, (l, on) => matchesFilter(parseFilter({ [l.path]: { [l.op]: l.operand } }), on) === modelLeaf(l, on)));
  });

  it('$and, $or and $not combine like the boolean operators', () => {
    fc.assert(fc.property(boundedTree, eventArb, (t, on) => matchesFilter(parseFilter(toFilter(t)), on) === model(t, on)));
  });

  it('$startsWith matches exactly the strings that begin with the prefix, regular expression characters included', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 8 }), (prefix, text) => {
        const filter = parseFilter({ 'data.s': { $startsWith: prefix } });
        return matchesFilter(filter, { data: { s: prefix + text } }) && matchesFilter(filter, { data: { s: text } }) === text.startsWith(prefix);
      }),
    );
  });

  it('names a failure exactly when the event does not match, and the named top-level key fails while every key before it holds', () => {
    const topLevel = fc.uniqueArray(fc.tuple(fc.constantFrom(...PATHS), leaf), { minLength: 1, maxLength: 3, selector: ([path]) => path });
    fc.assert(
      fc.property(topLevel, eventArb, (pairs, on) => {
        const filter = parseFilter(Object.fromEntries(pairs.map(([path, l]) => [path, { [l.op]: l.operand }])));
        const verdict = evaluateFilter(filter, on);
        const holds = pairs.map(([path, l]) => modelLeaf({ ...l, path }, on));
        if (holds.every(Boolean)) return verdict.matches && verdict.failedAt === undefined;
        const first = holds.indexOf(false);
        return !verdict.matches && verdict.failedAt === pairs[first]![0];
      }),
    );
  });

  it('accepts every filter within the bounds and refuses every one nested beyond them', () => {
    fc.assert(
      fc.property(tree, (t) => {
        const accepted = (() => {
          try {
            parseFilter(toFilter(t));
            return true;
          } catch {
            return false;
          }
        })();
        const withinBounds =
          depthOf(t) <= FILTER_LIMITS.maxDepth && leavesOf(t) <= FILTER_LIMITS.maxConditions && Buffer.byteLength(JSON.stringify(toFilter(t))) <= FILTER_LIMITS.maxBytes;
        return accepted === withinBounds;
      }),
    );
  });
});
