import { brotliDecompressSync } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** An object of the bodies bucket as stored, read around the adapter: its bytes and its user metadata. */
export async function storedBodyBytes(s3: S3Client, bucket: string, key: string): Promise<{ bytes: Buffer; metadata: Record<string, string> }> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return { bytes: Buffer.from(await object.Body!.transformToByteArray()), metadata: object.Metadata ?? {} };
}

/**
 * The JSON an object of the bodies bucket holds, read around the adapter: decoded when its
 * metadata says it was written brotli-compressed (docs/data-model.md), as it is read plain otherwise.
 */
export async function storedBodyObject(s3: S3Client, bucket: string, key: string): Promise<unknown> {
  const { bytes, metadata } = await storedBodyBytes(s3, bucket, key);
  const json = metadata['body-encoding'] === 'br' ? brotliDecompressSync(bytes) : bytes;
  return JSON.parse(json.toString('utf8')) as unknown;
}
