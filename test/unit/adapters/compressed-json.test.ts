import { brotliDecompressSync } from 'node:zlib';
import { encodeJson, parseCompressedJson } from '../../../lambdas/adapters/compressed-json';
import { inlineBody } from '../../../lambdas/adapters/dynamo/inline-bodies';
import { orderPayload } from '../../support/order-payload';

describe('encodeJson', () => {
  it("holds a body's JSON and its brotli form, which decodes back to the body", () => {
    const order = orderPayload(5, { ms: 0 });
    const { json, compressed } = encodeJson(order);
    expect(JSON.parse(json.toString('utf8'))).toEqual(order);
    expect(compressed.length).toBeLessThan(json.length);
    expect(JSON.parse(brotliDecompressSync(compressed).toString('utf8'))).toEqual(order);
    expect(parseCompressedJson(compressed)).toEqual(order);
  });

  it('compresses a body once: the bucket writes the very bytes the request item was sized with', () => {
    const order = orderPayload(20, { ms: 0 });
    const sized = inlineBody(order);
    expect(sized.stored).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(sized.stored as Uint8Array).equals(encodeJson(order).compressed)).toBe(true);
    expect(encodeJson(order).compressed).toBe(encodeJson(order).compressed);
  });

  it('writes a missing value as null', () => {
    expect(encodeJson(undefined).json.toString('utf8')).toBe('null');
  });
});
