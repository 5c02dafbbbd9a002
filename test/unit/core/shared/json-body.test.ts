import { JSON_BODY_LIMITS, parseJsonBody } from '../../../../lambdas/core/shared/json-body';
import { MalformedJsonError, ValidationError } from '../../../../lambdas/core/shared/errors';

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

  it.each(['9007199254740992', '-9007199254740992', '9007199254740993', '1e20', '-1e100', '9.99e125', '1e126', '1e400', '1e-131', '-2e-200'])(
    'refuses the number %s, which would not be read back as sent',
    (number) => {
      expect(() => parseJsonBody(`{"n":${number}}`)).toThrow(ValidationError);
    },
  );

  it.each(['1.00000000000000001', '0.1000000000000000000001', '3.141592653589793238', '123456789012345678e-10'])(
    'refuses %s, whose digits a 64-bit double cannot all keep',
    (number) => {
      expect(() => parseJsonBody(`[${number}]`)).toThrow(ValidationError);
    },
  );

  it.each([
    ['9007199254740991', 9007199254740991],
    ['-9007199254740991', -9007199254740991],
    ['1e-130', 1e-130],
    ['0', 0],
    ['-0.5', -0.5],
    ['1.50', 1.5],
    ['15e-1', 1.5],
    ['1E+2', 100],
    ['0.30000000000000004', 0.30000000000000004],
    ['3.141592653589793', 3.141592653589793],
  ])('keeps the number %s', (text, value) => {
    expect(parseJsonBody(`{"n":${text}}`)).toEqual({ n: value });
  });

  it('refuses an empty member name, one over 255 characters and __proto__, naming where', () => {
    const refusal = (text: string) => {
      try {
        parseJsonBody(text);
      } catch (error) {
        return (error as ValidationError).errors;
      }
      throw new Error('not refused');
    };
    expect(refusal('{"payload":{"a":{"":1}}}')).toEqual([{ path: '/payload/a/', message: 'member names must not be empty' }]);
    expect(refusal(`{"payload":{"${'k'.repeat(256)}":1}}`)).toEqual([{ path: '/payload', message: expect.stringContaining('255') }]);
    expect(refusal('{"payload":[0,{"__proto__":{"x":1}}]}')).toEqual([{ path: '/payload/1/__proto__', message: expect.stringContaining('reserved') }]);
    // 255 characters outside the basic plane (510 UTF-16 units) are still 255 characters.
    expect(parseJsonBody(`{"${'😀'.repeat(255)}":1}`)).toEqual({ ['😀'.repeat(255)]: 1 });
  });

  it('refuses lone surrogates in values and names, and keeps pairs', () => {
    expect(() => parseJsonBody('{"s":"\\ud800"}')).toThrow(ValidationError);
    expect(() => parseJsonBody('{"\\udc00":1}')).toThrow(ValidationError);
    expect(parseJsonBody('{"s":"\\ud83d\\ude00"}')).toEqual({ s: '😀' });
  });

  it('names the path of the value it refuses', () => {
    try {
      parseJsonBody('{"payload":{"a/b":[0,{"c":[1,"x",1e300]}]}}');
      throw new Error('not refused');
    } catch (error) {
      expect((error as ValidationError).errors).toEqual([{ path: '/payload/a~1b/1/c/2', message: expect.stringContaining('numbers') }]);
    }
  });

  it('refuses a leading byte-order mark as malformed', () => {
    expect(() => parseJsonBody('\uFEFF{}')).toThrow(MalformedJsonError);
  });
});
