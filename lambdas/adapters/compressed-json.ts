import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';

/**
 * JSON bodies compressed with brotli, for the stores that bill by the byte (DynamoDB items, S3
 * objects). Brotli rather than gzip: on JSON of 1 to 250 KB it is about 10 % smaller at a similar
 * speed, and Node.js has it in every runtime Herald targets, with no dependency.
 */

/** The JSON text of a value, as every store writes it (`null` for a missing value). */
export function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value ?? null), 'utf8');
}

/** `json` compressed at `quality` (0 fastest to 11 smallest), in text mode. */
export function compressJson(json: Buffer, quality: number): Buffer {
  return brotliCompressSync(json, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: quality,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_SIZE_HINT]: json.length,
    },
  });
}

/** The value whose JSON `compressed` holds. */
export function parseCompressedJson(compressed: Uint8Array): unknown {
  return JSON.parse(brotliDecompressSync(compressed).toString('utf8')) as unknown;
}
