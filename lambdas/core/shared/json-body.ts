import { MalformedJsonError, ValidationError } from './errors';

/**
 * What a JSON body may hold, so that everything Herald accepts is stored, and read back, as it
 * came. DynamoDB refuses documents nested deeper than 32 levels, numbers below 1E-130 in
 * magnitude and map keys that are empty; a string with a lone UTF-16 surrogate cannot be written
 * as UTF-8 at all. Numbers reach the table through a JavaScript double: integers beyond 2^53 − 1
 * are not all representable (9007199254740993 parses to …992), and the AWS SDK's marshaller
 * refuses every number beyond that magnitude, so that is the largest accepted. Checked before
 * anything walks the body recursively (the idempotency fingerprint does), so no depth can
 * exhaust a stack.
 */
export const JSON_BODY_LIMITS = {
  /** Levels of objects and arrays, the body itself being the first. */
  maxDepth: 32,
  /** 2^53 − 1: beyond it a double skips integers and the marshaller refuses the number. */
  largestMagnitude: Number.MAX_SAFE_INTEGER,
  /** DynamoDB's smallest non-zero magnitude. */
  smallestMagnitude: 1e-130,
  /** Member names are 1 to this many characters (Unicode code points). */
  maxMemberNameLength: 255,
} as const;

/**
 * Member names refused wherever they appear. `__proto__` is a setter on every plain object: the
 * validation that copies a payload and the DynamoDB unmarshaller that reads it back both drop
 * such a member or turn it into the object's prototype, so it could never be read back as sent.
 */
export const RESERVED_MEMBER_NAMES: ReadonlySet<string> = new Set(['__proto__']);

const NUMBER_RULE = `numbers must be 0 or lie within ±1E-130 and ±${JSON_BODY_LIMITS.largestMagnitude} (2^53 − 1), with no more significant digits than a 64-bit double keeps`;

/**
 * Parses a request body as strict JSON: refuses malformed text (a leading byte-order mark
 * included, as RFC 8259 allows), an object with the same member twice (JSON.parse would keep
 * the last one silently, so the stored request would differ from what the client may believe it
 * sent), nesting beyond `maxDepth`, numbers that would not be stored as written, member names
 * that are empty, too long or reserved, and ill-formed strings. Each refusal names the path.
 *
 * @example parseJsonBody('{"type":"demo.sleep","payload":{}}') // { type: 'demo.sleep', payload: {} }
 */
export function parseJsonBody(text: string): unknown {
  scanStructure(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new MalformedJsonError(`The request body is not valid JSON: ${(error as Error).message}`);
  }
  checkStrings(value);
  return value;
}

// With the u flag a surrogate pair is one code point, so only an unpaired half matches.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const NUMBER_START = /[-0-9]/;
const NUMBER_CHAR = /[-+.eE0-9]/;

interface Container {
  readonly object: boolean;
  readonly keys: Set<string>;
  expectingKey: boolean;
  /** The member being read (objects) or the element's index (arrays), for paths. */
  at: string;
  index: number;
}

/**
 * One pass over the text, without recursion: depth, duplicate and unusable member names, and
 * numbers, which only the text shows in full (JSON.parse has already rounded them). Syntax is
 * JSON.parse's job; a token this scan cannot read is left for it to refuse.
 */
function scanStructure(text: string): void {
  const stack: Container[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.object && top.expectingKey) {
        const key = decodeKey(text.slice(i, end + 1));
        if (key !== undefined) {
          if (top.keys.has(key)) {
            throw new MalformedJsonError(`The request body names the member "${truncate(key)}" twice in one object; each name may appear once`);
          }
          top.keys.add(key);
          top.at = key;
          checkMemberName(stack, key);
        }
        top.expectingKey = false;
      }
      i = end;
    } else if (char === '{' || char === '[') {
      if (stack.length >= JSON_BODY_LIMITS.maxDepth) {
        throw new ValidationError(`The request body is nested deeper than ${JSON_BODY_LIMITS.maxDepth} levels of objects and arrays`, [
          { path: '/', message: `nesting is limited to ${JSON_BODY_LIMITS.maxDepth} levels` },
        ]);
      }
      stack.push({ object: char === '{', keys: new Set(), expectingKey: char === '{', at: '0', index: 0 });
    } else if (char === '}' || char === ']') {
      stack.pop();
    } else if (char === ',') {
      const top = stack[stack.length - 1];
      if (top?.object) top.expectingKey = true;
      else if (top) top.at = String(++top.index);
    } else if (NUMBER_START.test(char)) {
      let end = i + 1;
      while (end < text.length && NUMBER_CHAR.test(text[end]!)) end++;
      checkNumber(stack, text.slice(i, end));
      i = end - 1;
    }
  }
}

function decodeKey(token: string): string | undefined {
  try {
    return JSON.parse(token) as string;
  } catch {
    return undefined; // Malformed: JSON.parse of the whole body reports it.
  }
}

function checkMemberName(stack: readonly Container[], key: string): void {
  if (key.length === 0) throw invalid(pathOf(stack), 'member names must not be empty');
  // Counted in code points only past the cheap bound: a long name is refused without splitting it.
  if (key.length > JSON_BODY_LIMITS.maxMemberNameLength && [...key].length > JSON_BODY_LIMITS.maxMemberNameLength) {
    throw invalid(pathOf(stack.slice(0, -1)), `member names are at most ${JSON_BODY_LIMITS.maxMemberNameLength} characters`);
  }
  if (RESERVED_MEMBER_NAMES.has(key)) throw invalid(pathOf(stack), `the member name ${key} is reserved`);
}

/**
 * A number is kept only when the double JSON.parse makes of it names the same decimal as its
 * text, and DynamoDB and the marshaller take that double: then it is stored and read back as sent.
 */
function checkNumber(stack: readonly Container[], token: string): void {
  const value = Number(token);
  if (Number.isNaN(value)) return; // Not a JSON number (e.g. `-`): JSON.parse refuses the body.
  const magnitude = Math.abs(value);
  const outOfRange = magnitude > JSON_BODY_LIMITS.largestMagnitude || (magnitude !== 0 && magnitude < JSON_BODY_LIMITS.smallestMagnitude);
  if (outOfRange || !sameDecimal(token, String(value))) throw invalid(pathOf(stack), NUMBER_RULE);
}

/** Whether two decimal numerals name the same number (`1.50` and `15e-1` do; `-0` and `0` do). */
function sameDecimal(a: string, b: string): boolean {
  const x = decimalOf(a);
  const y = decimalOf(b);
  return x.digits === y.digits && (x.digits === '' || (x.negative === y.negative && x.exponent === y.exponent));
}

/** A numeral as sign, significant digits without leading or trailing zeros, and the exponent of its last digit. */
function decimalOf(numeral: string): { negative: boolean; digits: string; exponent: number } {
  const match = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?$/.exec(numeral);
  if (!match) return { negative: false, digits: numeral, exponent: 0 };
  const [, sign, whole = '', fraction = '', power = '0'] = match;
  const all = whole + fraction;
  const leading = all.length - all.replace(/^0+/, '').length;
  const significant = all.slice(leading).replace(/0+$/, '');
  const trailing = all.length - leading - significant.length;
  return { negative: sign === '-', digits: significant, exponent: Number(power) - fraction.length + trailing };
}

/** The JSON Pointer of the value the scan is at. */
function pathOf(stack: readonly Container[]): string {
  return stack.map((container) => `/${container.at.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** Every string and member name of a parsed body, walked without recursion. */
function checkStrings(root: unknown): void {
  const pending: { value: unknown; path: string }[] = [{ value: root, path: '' }];
  while (pending.length > 0) {
    const { value, path } = pending.pop()!;
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) throw invalid(path, 'strings must be well-formed Unicode (no lone surrogates)');
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => pending.push({ value: item, path: `${path}/${index}` }));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (LONE_SURROGATE.test(key)) throw invalid(path, 'member names must be well-formed Unicode (no lone surrogates)');
        pending.push({ value: item, path: `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}` });
      }
    }
  }
}

function invalid(path: string, message: string): ValidationError {
  const at = truncate(path || '/');
  return new ValidationError(`The request body holds a value that cannot be stored at ${at}: ${message}`, [{ path: at, message }]);
}

function truncate(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
