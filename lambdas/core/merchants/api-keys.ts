import { createHash, randomBytes } from 'node:crypto';

export const API_KEY_PREFIX = 'hrld_';

/** A new API key: the prefix and 32 random bytes, base64url (43 characters, 256 bits of entropy). */
export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** Only this digest is stored; the key itself is shown once and never kept. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Why an `Authorization` header that `bearerTokenOf` refuses is refused: the one spelling Herald reads. */
export const AUTHORIZATION_FORMAT = 'The Authorization header must be "Bearer <api key>": the scheme Bearer (in any case), exactly one space, then the key';

/**
 * The API key of an `Authorization` header, or undefined unless the header is exactly the
 * scheme `Bearer` (case-insensitive, RFC 9110), one space and an RFC 6750 token. One key has one
 * spelling, so nothing that counts or caches per key can be split by writing it another way
 * (`BEARER`, two spaces, a tab, a trailing space).
 *
 * @example bearerTokenOf('bearer hrld_abc') // 'hrld_abc'; bearerTokenOf('Bearer  hrld_abc') // undefined
 */
export function bearerTokenOf(authorization: string | undefined): string | undefined {
  const match = /^bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(authorization ?? '');
  return match?.[1];
}
