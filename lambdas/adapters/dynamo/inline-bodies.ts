import type { NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import { asDocumentValue } from './document-values';
import { encodeJson, parseCompressedJson } from '../compressed-json';

/**
 * How a payload or result is kept inside its request item. DynamoDB bills a write by the item's
 * size in 1 KB steps, and the item is written three times (submit, claim, finish): a body that
 * brotli makes smaller is stored as a Binary attribute holding its compressed JSON, the rest as
 * the plain map it always was. A JSON value is never Binary, so the attribute's type says which it
 * is, and items written before compression read as they did (compressed-json.ts).
 */

export interface InlineBody {
  /** What the item's attribute holds. */
  readonly stored: NativeAttributeValue;
  /** Bytes the value adds to the item by DynamoDB's rules, its attribute's name apart. */
  readonly bytes: number;
}

// The same body is sized (to decide whether it goes apart) and then stored: compressed once.
const encoded = new WeakMap<object, InlineBody>();

/** The attribute value for a body, compressed when that is smaller. */
export function inlineBody(value: unknown): InlineBody {
  const cached = typeof value === 'object' && value !== null ? encoded.get(value) : undefined;
  if (cached) return cached;
  // Compressed whatever its size: a body too large for the item goes to the bucket, which writes
  // this same compression (compressed-json.ts caches it per object).
  const { compressed } = encodeJson(value);
  const plainBytes = documentBytes(value);
  const body: InlineBody =
    compressed.length < plainBytes ? { stored: new Uint8Array(compressed), bytes: compressed.length } : { stored: asDocumentValue(value), bytes: plainBytes };
  if (typeof value === 'object' && value !== null) encoded.set(value, body);
  return body;
}

/** A body as read from an item: compressed JSON decoded, a plain value as it is. */
export function readInlineBody(stored: NativeAttributeValue): unknown {
  if (stored instanceof Uint8Array) return parseCompressedJson(stored);
  return stored;
}

/**
 * A JSON value's size as a DynamoDB attribute (the developer guide's item size rules): strings
 * their UTF-8 bytes, numbers about one byte per two digits plus one, a map or list 3 bytes plus
 * one per element, member names counted. Less than the JSON text, which also counts quotes and
 * punctuation: a 1 KB order is 883 B as a map.
 */
export function documentBytes(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number') return Math.ceil(String(value).replace(/[-.]|e.*$/gi, '').length / 2) + 1;
  if (Array.isArray(value)) return value.reduce<number>((sum, element) => sum + 1 + documentBytes(element), 3);
  if (typeof value === 'object') {
    return Object.entries(value)
      .filter(([, member]) => member !== undefined)
      .reduce((sum, [name, member]) => sum + 1 + Buffer.byteLength(name, 'utf8') + documentBytes(member), 3);
  }
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}
