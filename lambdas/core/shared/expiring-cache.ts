/**
 * A map whose entries expire a fixed time after they were set and which never holds more than
 * `maxEntries`: the oldest entry leaves first. It caches per warm container what API Gateway
 * caches for the authorizer (a key's merchant, or why the key was refused), where no authorizer
 * runs, so a flood of calls with one key reads the table once per TTL instead of once per call.
 *
 * @example const merchants = new ExpiringCache<string>(300_000, 10_000); merchants.set(digest, 'mer_1');
 */
export class ExpiringCache<V> {
  private readonly entries = new Map<string, { readonly value: V; readonly expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(ttlMs >= 0) || !Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('An expiring cache needs a TTL of 0 or more and room for 1 entry or more');
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V): void {
    if (this.ttlMs === 0) return;
    this.entries.delete(key);
    // A Map iterates in insertion order: the first key is the oldest.
    while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
  }

  get size(): number {
    return this.entries.size;
  }
}
