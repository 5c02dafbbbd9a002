/**
 * The capability in a request's `statusUrl`: an unguessable token that names one request without
 * being its id, so a merchant can hand the status page to its customer without handing over its
 * API key or anything that addresses the request through the API.
 *
 * The token is the request id encrypted under a service key with a synthetic nonce
 * (AES-256-GCM, nonce = HMAC-SHA-256(id) truncated to 96 bits, both keys derived from one secret
 * with HKDF): deterministic, so a replayed submit answers the very same URL and nothing has to be
 * stored per request; reversible by the server alone, so the status page finds the request from
 * the token; and authenticated, so a forged or altered token is refused before any read. It
 * expires with the request: once the request is gone, its token names nothing.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { HeraldRequest, RequestStatus } from './request';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Request ids are short; anything longer is not a token of ours and is refused unread. */
const MAX_TOKEN_CHARS = 256;
export const STATUS_TOKEN_SECRET_BYTES = 32;

interface DerivedKeys {
  readonly encryption: Buffer;
  readonly nonce: Buffer;
}

function derive(secret: Uint8Array): DerivedKeys {
  if (secret.length < STATUS_TOKEN_SECRET_BYTES) throw new RangeError(`The status token secret must have at least ${STATUS_TOKEN_SECRET_BYTES} bytes`);
  const okm = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'herald status token v1', 64));
  return { encryption: okm.subarray(0, 32), nonce: okm.subarray(32) };
}

const nonceOf = (keys: DerivedKeys, requestId: string) => createHmac('sha256', keys.nonce).update(requestId, 'utf8').digest().subarray(0, NONCE_BYTES);

/**
 * The status token of a request.
 *
 * @example statusTokenOf('req_01hx…', secret) // 'mZ0k…' (the same for the same id and secret)
 */
export function statusTokenOf(requestId: string, secret: Uint8Array): string {
  const keys = derive(secret);
  const nonce = nonceOf(keys, requestId);
  const cipher = createCipheriv('aes-256-gcm', keys.encryption, nonce);
  const sealed = Buffer.concat([cipher.update(requestId, 'utf8'), cipher.final()]);
  return Buffer.concat([nonce, sealed, cipher.getAuthTag()]).toString('base64url');
}

/** The request id a token names, or undefined for anything the secret did not issue. */
export function requestIdOfStatusToken(token: string, secret: Uint8Array): string | undefined {
  if (token.length > MAX_TOKEN_CHARS || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const raw = Buffer.from(token, 'base64url');
  // The decoder ignores a last character's unused low bits, so 16 spellings of one token would
  // decode alike; only the one this module writes is a token, and a link has one spelling.
  if (raw.toString('base64url') !== token) return undefined;
  if (raw.length <= NONCE_BYTES + TAG_BYTES) return undefined;
  const keys = derive(secret);
  const nonce = raw.subarray(0, NONCE_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', keys.encryption, nonce);
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    const requestId = Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    // Only the nonce this id yields was ever issued; any other is a token we did not make.
    return timingSafeEqual(nonce, nonceOf(keys, requestId)) ? requestId : undefined;
  } catch {
    return undefined;
  }
}

/** All a status page shows: no payload, no result, no merchant, no id. */
export interface PublicStatus {
  readonly status: RequestStatus;
  readonly type: string;
  /** What the customer reads for the type: the processor's display name, else the type. */
  readonly displayName: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * The facts a status page may show, and nothing more: no payload, result, error or merchant.
 *
 * @example presentPublicStatus(request, 'Order processing').displayName === 'Order processing'
 */
export function presentPublicStatus(
  request: Pick<HeraldRequest, 'status' | 'type' | 'createdAt' | 'updatedAt'>,
  displayName?: string,
): PublicStatus {
  return {
    status: request.status,
    type: request.type,
    displayName: displayName ?? request.type,
    createdAt: request.createdAt,
    updatedAt: request.updatedAt,
  };
}
