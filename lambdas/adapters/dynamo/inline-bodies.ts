import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import type { NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import { asDocumentValue } from './document-values';

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
  /** Bytes the value adds to the item: the compressed size, or the JSON size when plain. */
  readonly bytes: number;
}

// The same body is sized (to decide whether it goes apart) and then stored: compressed once.
const encoded = new WeakMap<object, InlineBody>();

/** The attribute value for a body, compressed when that is smaller. */
export function inlineBody(value: unknown): InlineBody {
  const cached = typeof value === 'object' && value !== null ? encoded.get(value) : undefined;
  if (cached) return cached;
  const json = Buffer.from(JSON.stringify(value ?? null), 'utf8');
  const compressed = brotliCompressSync(json, {
    params: { [constants.BROTLI_PARAM_QUALITY]: QUALITY, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT, [constants.BROTLI_PARAM_SIZE_HINT]: json.length },
  });
  const body: InlineBody =
    compressed.length < json.length ? { stored: new Uint8Array(compressed), bytes: compressed.length } : { stored: asDocumentValue(value), bytes: json.length };
  if (typeof value === 'object' && value !== null) encoded.set(value, body);
  return body;
}

/** A body as read from an item: compressed JSON decoded, a plain value as it is. */
export function readInlineBody(stored: NativeAttributeValue): unknown {
  if (stored instanceof Uint8Array) return JSON.parse(brotliDecompressSync(stored).toString('utf8')) as unknown;
  return stored;
}
