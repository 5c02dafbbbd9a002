import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';

/**
 * JSON bodies compressed with brotli, for the stores that bill by the byte (DynamoDB items, S3
 * objects). Brotli rather than gzip: on JSON it is smaller at a similar speed, and Node.js has it
 * in every runtime Herald targets, with no dependency.
 */

/** A body's JSON text and that text compressed, whichever a store keeps. */
export interface EncodedJson {
  readonly json: Buffer;
  readonly compressed: Buffer;
}

/**
 * Up to this size quality 5, the fast end of brotli that still wins most of its ratio on small
 * JSON (a 1 KB order becomes about 600 B in well under a millisecond); above it quality 4, about
 * half the time for a few per cent more bytes, since a body of up to 256 KB (the submit's limit)
 * is compressed inside the submit's latency.
 */
const SMALL_BODY_BYTES = 64 * 1024;

// A body is sized for the request item, then written to the bucket when it goes apart: the same
// object is compressed once for both.
const encodings = new WeakMap<object, EncodedJson>();

/** The JSON of a value (`null` for a missing one) and its compressed form, computed once per object. */
export function encodeJson(value: unknown): EncodedJson {
  const cacheable = typeof value === 'object' && value !== null;
  const cached = cacheable ? encodings.get(value) : undefined;
  if (cached) return cached;
  const json = Buffer.from(JSON.stringify(value ?? null), 'utf8');
  const compressed = brotliCompressSync(json, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: json.length <= SMALL_BODY_BYTES ? 5 : 4,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_SIZE_HINT]: json.length,
    },
  });
  const encoding = { json, compressed };
  if (cacheable) encodings.set(value, encoding);
  return encoding;
}

/** The value whose JSON `compressed` holds. */
export function parseCompressedJson(compressed: Uint8Array): unknown {
  return JSON.parse(brotliDecompressSync(compressed).toString('utf8')) as unknown;
}
