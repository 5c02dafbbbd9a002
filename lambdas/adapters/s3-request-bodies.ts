import type { S3Client } from '@aws-sdk/client-s3';
import { s3Sdk } from './aws-clients';
import type { BodyKind } from '../settings/storage';
import { encodeJson, parseCompressedJson } from './compressed-json';

export type { BodyKind };

/** The request a body belongs to: its object's key starts with the owner, so no other merchant's request can name it. */
export interface BodyOwner {
  readonly merchantId: string;
  readonly requestId: string;
}

/**
 * `<kind>/<merchant>/<request>/<name>`: the kind first, so that the bucket's lifecycle rules and the
 * functions' IAM grants can each name one kind by prefix; every segment encoded, so that no id can
 * carry a `/` into another merchant's or request's prefix.
 */
export function bodyObjectKey(kind: BodyKind, owner: BodyOwner, name: string): string {
  return [kind, owner.merchantId, owner.requestId, name].map(encodeURIComponent).join('/');
}

/**
 * S3 keeps `Content-Encoding` and returns it, but not every S3-compatible store does: the
 * encoding is also written as user metadata, which all of them keep, and a reader trusts either.
 */
const ENCODING_METADATA = 'body-encoding';
const BROTLI = 'br';

/**
 * Request bodies too large to be worth DynamoDB's write units and storage, as JSON objects in the
 * bodies bucket: one PutObject when written, one GetObject per read. Each object is written once
 * and never changed, and the bucket's lifecycle rules expire it with its request
 * (lib/constructs/storage.ts).
 *
 * An object holds its JSON brotli-compressed when that is smaller, marked `Content-Encoding: br`
 * (so a download through a browser still shows the JSON): S3 storage is billed by the byte for
 * up to twice the retention, and a real 100 KB order is stored in about a quarter of it. Objects
 * written before compression have no encoding and read as plain JSON.
 */
export class S3RequestBodies {
  /** `client` may be a function, called at the first body read or written, so that S3's module loads only then. */
  constructor(
    private readonly client: S3Client | (() => S3Client),
    private readonly bucket: string,
  ) {}

  private s3(): S3Client {
    return typeof this.client === 'function' ? this.client() : this.client;
  }

  async put(kind: BodyKind, owner: BodyOwner, name: string, value: unknown): Promise<void> {
    const { PutObjectCommand } = s3Sdk();
    // The request item's sizing already compressed a body of up to 64 KB: this reuses it.
    const { json, compressed } = encodeJson(value);
    const encoded = compressed.length < json.length;
    await this.s3().send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: bodyObjectKey(kind, owner, name),
        Body: encoded ? compressed : json,
        ContentType: 'application/json',
        ...(encoded ? { ContentEncoding: BROTLI, Metadata: { [ENCODING_METADATA]: BROTLI } } : {}),
      }),
    );
  }

  /** The body, or `undefined` when its object is gone (expired with its request, or never written after a crash). */
  async get(kind: BodyKind, owner: BodyOwner, name: string): Promise<{ value: unknown } | undefined> {
    const { GetObjectCommand, NoSuchKey } = s3Sdk();
    try {
      const object = await this.s3().send(new GetObjectCommand({ Bucket: this.bucket, Key: bodyObjectKey(kind, owner, name) }));
      if (!object.Body) return undefined;
      const bytes = await object.Body.transformToByteArray();
      const compressed = object.ContentEncoding === BROTLI || object.Metadata?.[ENCODING_METADATA] === BROTLI;
      return { value: compressed ? parseCompressedJson(bytes) : (JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown) };
    } catch (error) {
      // Locally a missing key says so; on AWS, without s3:ListBucket (not granted: it would list
      // every merchant's keys), it reads as AccessDenied, which is why readers never ask for an
      // object whose request has expired (request-bodies.ts).
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }
}
