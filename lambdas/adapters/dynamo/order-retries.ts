/** Tries of an ordering key's transaction that another one on the same key got in the way of. */
export const ORDER_WRITE_TRIES = 8;
const CONFLICT_BASE_DELAY_MS = 20;

/** A short, jittered wait before the next try, growing with each. */
export function backOff(tries: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * CONFLICT_BASE_DELAY_MS * 2 ** tries));
}
