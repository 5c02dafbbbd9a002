import { createHmac } from 'node:crypto';

/** Crockford's base32 in lower case: URL-safe, no look-alike letters, the alphabet ULIDs use. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
/** 130 bits of the hash, and the form `REQUEST_ID_PATTERN` (ids.ts) checks on every `{id}` route. */
const ID_CHARACTERS = 26;

/**
 * The id of the request a merchant submits under an idempotency key: an HMAC-SHA256 of both,
 * keyed by the deployment's request-id key. Deriving the id from the key is what lets one
 * conditional write both store a request and refuse a second one under the same key; keying the
 * hash means nobody can compute another merchant's ids from keys they guessed or saw. The key
 * must never change for a deployment's lifetime: a new key would give a retried submit a new id,
 * that is a duplicate request.
 *
 * @example requestIdFor('k', 'mer_1', 'order-42') // 'req_' + 26 characters, the same on every call
 */
export function requestIdFor(requestIdKey: string, merchantId: string, idempotencyKey: string): string {
  // A newline cannot occur in a merchant id or in an idempotency key (printable ASCII only), so the pair is unambiguous.
  const digest = createHmac('sha256', requestIdKey).update(`${merchantId}\n${idempotencyKey}`).digest();
  let bits = 0;
  let value = 0;
  let id = 'req_';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && id.length < 4 + ID_CHARACTERS) {
      bits -= 5;
      id += ALPHABET[(value >>> bits) & 31];
    }
    value &= (1 << bits) - 1;
    if (id.length === 4 + ID_CHARACTERS) break;
  }
  return id;
}
