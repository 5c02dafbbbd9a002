import { JSON_BODY_LIMITS, parseJsonBody } from '../../../lambdas/core/json-body';
import { MalformedJsonError, ValidationError } from '../../../lambdas/core/errors';

const nested = (levels: number) => '['.repeat(levels) + '0' + ']'.repeat(levels);

describe('parseJsonBody', () => {
  it('returns the parsed value of strict JSON', () => {
    expect(parseJsonBody('{"type":"demo.sleep","payload":{"ms":1,"list":[1,"😀",null]}}')).toEqual({
      type: 'demo.sleep',
      payload: { ms: 1, list: [1, '😀', null] },
    });
  });

  it(`accepts nesting of exactly ${JSON_BODY_LIMITS.maxDepth} levels and refuses one more before parsing`, () => {
    expect(() => parseJsonBody(nested(JSON_BODY_LIMITS.maxDepth))).not.toThrow();
    expect(() => parseJsonBody(nested(JSON_BODY_LIMITS.maxDepth + 1))).toThrow(ValidationError);
  });

  it('refuses a million levels of nesting without exhausting the stack', () => {
    expect(() => parseJsonBody('['.repeat(1_000_000))).toThrow(ValidationError);
  });

  it('refuses an object that names a member twice, however the name is escaped', () => {
    expect(() => parseJsonBody('{"a":1,"b":{"c":1,"c":2}}')).toThrow(MalformedJsonError);
    expect(() => parseJsonBody('{"type":1,"\\u0074ype":2}')).toThrow(MalformedJsonError);
    expect(parseJsonBody('{"a":{"x":1},"b":{"x":2}}')).toEqual({ a: { x: 1 }, b: { x: 2 } });
  });

  it('treats braces and quotes inside strings as text', () => {
    expect(parseJsonBody('{"a":"{\\"a\\":[[[","b":"}]"}')).toEqual({ a: '{"a":[[[', b: '}]' });
  });

  it.each(['1e126', '-1e126', '1e400', '1e-131', '-2e-200'])('refuses the number %s, which DynamoDB cannot store', (number) => {
    expect(() => parseJsonBody(`{"n":${number}}`)).toThrow(ValidationError);
  });

  it.each(['9.99e125', '-9.99e125', '1e-130', '0', '-0.5'])('keeps the number %s', (number) => {
    expect(parseJsonBody(`{"n":${number}}`)).toEqual({ n: Number(number) });
  });

  it('refuses lone surrogates in values and names, and keeps pairs', () => {
    expect(() => parseJsonBody('{"s":"\\ud800"}')).toThrow(ValidationError);
    expect(() => parseJsonBody('{"\\udc00":1}')).toThrow(ValidationError);
    expect(parseJsonBody('{"s":"\\ud83d\\ude00"}')).toEqual({ s: '😀' });
  });

  it('names the path of the value it refuses', () => {
    try {
      parseJsonBody('{"payload":{"a/b":[0,1e300]}}');
      throw new Error('not refused');
    } catch (error) {
      expect((error as ValidationError).errors).toEqual([{ path: '/payload/a~1b/1', message: expect.stringContaining('numbers') }]);
    }
  });

  it('refuses a leading byte-order mark as malformed', () => {
    expect(() => parseJsonBody('\uFEFF{}')).toThrow(MalformedJsonError);
  });
});
