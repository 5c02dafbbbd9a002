import type { NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import { asDocumentValue } from './document-values';
import { compressJson, jsonBytes, parseCompressedJson } from '../compressed-json';

/**
 * How a payload or result is kept inside its request item. DynamoDB bills a write by the item's
 * size in 1 KB steps, and the item is written three times (submit, claim, finish): a body that
 * brotli makes smaller is stored as a Binary attribute holding its compressed JSON, the rest as
 * the plain map it always was. A JSON value is never Binary, so the attribute's type says which it
 * is, and items written before compression read as they did.
 *
 * Quality 5 is the fast end of brotli that still wins most of its ratio on small JSON: a 1 KB
 * order becomes about 600 B in well under a millisecond.
 */
const QUALITY = 5;

export interface InlineBody {
  /** What the item's attribute holds. */
  readonly stored: NativeAttributeValue;
  /** Bytes the value adds to the item by DynamoDB's rules, its attribute's name apart. */
  readonly bytes: number;
}

// The same body is sized (to decide whether it goes apart) and then stored: compressed once.
const encoded = new WeakMap<object, InlineBody>();

/**
 * JSON over this goes apart without being compressed: fitting the 4 KB inline bound would take a
 * ratio over 16, which real payloads do not reach (a 100 KB order compresses about 4 to 1), and
 * compressing 100 KB costs about 4 ms of the submit for nothing.
 */
const COMPRESSIBLE_MAX_BYTES = 64 * 1024;

/** The attribute value for a body, compressed when that is smaller. */
export function inlineBody(value: unknown): InlineBody {
  const cached = typeof value === 'object' && value !== null ? encoded.get(value) : undefined;
  if (cached) return cached;
  const json = jsonBytes(value);
  if (json.length > COMPRESSIBLE_MAX_BYTES) return { stored: asDocumentValue(value), bytes: json.length };
  const compressed = compressJson(json, QUALITY);
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
