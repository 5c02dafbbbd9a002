import { MalformedJsonError, ValidationError } from './errors';

/**
 * What a JSON body may hold, so that everything Herald accepts can be stored as it came. DynamoDB
 * refuses documents nested deeper than 32 levels and numbers outside ±(1E-130 … 9.99…E+125); a
 * string with a lone UTF-16 surrogate cannot be written as UTF-8 at all. Checked before anything
 * walks the body recursively (the idempotency fingerprint does), so no depth can exhaust a stack.
 */
export const JSON_BODY_LIMITS = {
  /** Levels of objects and arrays, the body itself being the first. */
  maxDepth: 32,
  /** DynamoDB's largest is 9.99…9E+125 (38 nines), which a double cannot tell from 1E+126: that is the first refused. */
  refusedFromMagnitude: 1e126,
  smallestMagnitude: 1e-130,
} as const;

/**
 * Parses a request body as strict JSON: refuses malformed text (a leading byte-order mark
 * included, as RFC 8259 allows), an object with the same member twice (JSON.parse would keep
 * the last one silently, so the stored request would differ from what the client may believe it
 * sent), nesting beyond `maxDepth`, numbers DynamoDB cannot store, and ill-formed strings.
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
  checkValues(value);
  return value;
}

// With the u flag a surrogate pair is one code point, so only an unpaired half matches.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

interface Container {
  readonly object: boolean;
  readonly keys: Set<string>;
  expectingKey: boolean;
}

/** One pass over the text, without recursion: depth and duplicate members. Syntax is JSON.parse's job. */
function scanStructure(text: string): void {
  const stack: Container[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
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
      stack.push({ object: char === '{', keys: new Set(), expectingKey: char === '{' });
    } else if (char === '}' || char === ']') {
      stack.pop();
    } else if (char === ',') {
      const top = stack[stack.length - 1];
      if (top?.object) top.expectingKey = true;
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

/** Every number and string of a parsed body, walked without recursion. */
function checkValues(root: unknown): void {
  const pending: { value: unknown; path: string }[] = [{ value: root, path: '' }];
  while (pending.length > 0) {
    const { value, path } = pending.pop()!;
    if (typeof value === 'number') {
      const magnitude = Math.abs(value);
      if (!Number.isFinite(value) || magnitude >= JSON_BODY_LIMITS.refusedFromMagnitude || (magnitude !== 0 && magnitude < JSON_BODY_LIMITS.smallestMagnitude)) {
        throw invalid(path, 'numbers must lie within ±1E-130 and ±9.99E+125 (or be 0)');
      }
    } else if (typeof value === 'string') {
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
