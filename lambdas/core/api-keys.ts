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

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerTokenOf(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}
