/**
 * Why delivery messages are sealed: the deliver worker signs the body a message carries with the
 * merchant's real signing secret and posts it. Whoever can put a message on the deliveries queue
 * could otherwise have Herald sign a forged event that every receiver's `standardwebhooks` check
 * accepts. So every message Herald sends carries a seal, an HMAC-SHA-256 over all its fields
 * under a key that only Herald's functions read, and the worker refuses a message whose seal is
 * missing or does not match: a changed body, merchant, endpoint or round breaks it.
 *
 * The seal is made by the queue adapter on every send (a rescheduled message is sealed anew) and
 * survives a DLQ redrive, which moves messages unchanged.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from './fingerprint';

export const DELIVERY_MESSAGE_KEY_BYTES = 32;

/** A message as it travels: its fields and the seal over them. */
export type Sealed<M extends object> = Omit<M, 'seal'> & { readonly seal: string };

function sealOver(message: object, key: Buffer): Buffer {
  const { seal: _ignored, ...fields } = message as { seal?: unknown };
  return createHmac('sha256', key).update(canonicalJson(fields)).digest();
}

export function sealDeliveryMessage<M extends object>(message: M, key: Buffer): Sealed<M> {
  return { ...message, seal: sealOver(message, key).toString('base64url') };
}

/** True only when the message carries the seal this key makes over exactly its fields. */
export function isSealedBy(message: object, key: Buffer | undefined): boolean {
  const { seal } = message as { seal?: unknown };
  if (!key || typeof seal !== 'string') return false;
  const given = Buffer.from(seal, 'base64url');
  const expected = sealOver(message, key);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
