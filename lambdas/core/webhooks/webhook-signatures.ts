import { createHash, createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * The two signature schemes of Standard Webhooks: `v1`, an HMAC-SHA256 with a `whsec_` secret
 * shared with the receiver, and `v1a`, an ed25519 signature by a `whsk_` secret key that only
 * Herald holds, verified with the `whpk_` public key a merchant may publish anywhere. Both sign
 * `<webhook-id>.<webhook-timestamp>.<body>` and are sent as `<scheme>,<base64 signature>`.
 */

export const SIGNATURE_SCHEMES = ['v1', 'v1a'] as const;
export type SignatureScheme = (typeof SIGNATURE_SCHEMES)[number];

export const SYMMETRIC_SECRET_PREFIX = 'whsec_';
export const SECRET_KEY_PREFIX = 'whsk_';
export const PUBLIC_KEY_PREFIX = 'whpk_';

/**
 * A new ed25519 key pair in Standard Webhooks' serialization: `whsk_` and `whpk_` followed by the
 * base64 of the raw 32-byte private key (the seed RFC 8032 names) and public key.
 */
export function generateKeyPair(): { readonly secretKey: string; readonly publicKey: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  return {
    secretKey: SECRET_KEY_PREFIX + Buffer.from(jwk.d!, 'base64url').toString('base64'),
    publicKey: PUBLIC_KEY_PREFIX + Buffer.from(jwk.x!, 'base64url').toString('base64'),
  };
}

/** The public key of a `whsk_` secret key, as `whpk_…`. */
export function publicKeyOf(secretKey: string): string {
  const jwk = privateKeyOf(secretKey).export({ format: 'jwk' });
  return PUBLIC_KEY_PREFIX + Buffer.from(jwk.x!, 'base64url').toString('base64');
}

/** The signature of one message with one secret, `v1,…` or `v1a,…` by the secret's prefix. */
export function signWith(secret: string, id: string, at: Date, body: string): string {
  if (!secret.startsWith(SECRET_KEY_PREFIX)) return new Webhook(secret).sign(id, at, body);
  const timestamp = Math.floor(at.getTime() / 1000);
  const signature = sign(null, Buffer.from(`${id}.${timestamp}.${body}`, 'utf8'), privateKeyOf(secret));
  return `v1a,${signature.toString('base64')}`;
}

/** A secret key as node's KeyObject, kept per container: parsing one costs more than signing with it. */
const keyObjects = new Map<string, KeyObject>();
const KEY_CACHE_LIMIT = 100;

function privateKeyOf(secretKey: string): KeyObject {
  const cached = keyObjects.get(secretKey);
  if (cached) return cached;
  const seed = Buffer.from(secretKey.slice(SECRET_KEY_PREFIX.length), 'base64');
  if (seed.length !== 32) throw new Error('A whsk_ secret key holds 32 bytes');
  // The JWK form needs the public half too; node derives it from the seed through PKCS #8.
  const key = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  if (keyObjects.size >= KEY_CACHE_LIMIT) keyObjects.delete(keyObjects.keys().next().value!);
  keyObjects.set(secretKey, key);
  return key;
}

/** The DER header of a PKCS #8 ed25519 private key (RFC 8410), followed by the 32-byte seed. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** One public key as a JSON Web Key (RFC 8037), with its Standard Webhooks form beside it. */
export interface PublishedKey {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  readonly alg: 'EdDSA';
  readonly use: 'sig';
  readonly kid: string;
  readonly x: string;
  readonly whpk: string;
  /** Set on a rotated-out key: signatures by it are sent until then. */
  readonly expiresAt?: string;
}

/** A `whpk_` public key as a JWK; its id is a digest of the key, so it names the key and nothing else. */
export function publishedKeyOf(publicKey: string, expiresAt?: string): PublishedKey {
  const raw = Buffer.from(publicKey.slice(PUBLIC_KEY_PREFIX.length), 'base64');
  return {
    kty: 'OKP',
    crv: 'Ed25519',
    alg: 'EdDSA',
    use: 'sig',
    kid: createHash('sha256').update(raw).digest('base64url').slice(0, 22),
    x: raw.toString('base64url'),
    whpk: publicKey,
    ...(expiresAt ? { expiresAt } : {}),
  };
}
