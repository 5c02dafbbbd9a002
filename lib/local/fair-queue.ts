/**
 * The priority rule of SQS fair queues, as AWS's SQS developer guide ("How Amazon SQS fair queues
 * work") documents it, for the local event source and the fleet simulation. A tenant (message
 * group) is noisy while either
 *  - it holds more than 10 % of the queue's in-flight messages and at least 30 of them, or
 *  - its recent share of the consumers' processing time exceeds 10 %.
 * Receives return quiet tenants' messages first; noisy tenants' messages only when no quiet one
 * waits, the noisy tenant with the fewest in flight first. Nothing is dropped or throttled.
 *
 * "Recent" is not specified by AWS; here processing time decays exponentially with a one-minute
 * time constant. AWS's thresholds are approximate; these are exact.
 */
export const FAIR_QUEUE_RULE = {
  inFlightShare: 0.1,
  minInFlight: 30,
  processingTimeShare: 0.1,
  processingTimeConstantMs: 60_000,
} as const;

interface Decaying {
  value: number;
  at: number;
}

/** What the consumers hold and have spent, per tenant: the measures the rule reads. */
export class TenantLoad {
  private readonly inFlight = new Map<string, number>();
  private totalInFlight = 0;
  private readonly busy = new Map<string, Decaying>();
  private readonly totalBusy: Decaying = { value: 0, at: 0 };

  constructor(private readonly rule: { readonly [K in keyof typeof FAIR_QUEUE_RULE]: number } = FAIR_QUEUE_RULE) {}

  /** A message of `tenant` was handed to a consumer. */
  received(tenant: string): void {
    this.inFlight.set(tenant, (this.inFlight.get(tenant) ?? 0) + 1);
    this.totalInFlight++;
  }

  /** A message of `tenant` left the consumer (deleted or back on the queue) after `busyMs` of its time. */
  settled(tenant: string, busyMs: number, now: number): void {
    const held = (this.inFlight.get(tenant) ?? 0) - 1;
    if (held > 0) this.inFlight.set(tenant, held);
    else this.inFlight.delete(tenant);
    this.totalInFlight = Math.max(this.totalInFlight - 1, 0);
    const entry = this.busy.get(tenant) ?? { value: 0, at: now };
    this.decay(entry, now).value += busyMs;
    this.busy.set(tenant, entry);
    this.decay(this.totalBusy, now).value += busyMs;
  }

  inFlightOf(tenant: string): number {
    return this.inFlight.get(tenant) ?? 0;
  }

  isNoisy(tenant: string, now: number): boolean {
    const held = this.inFlightOf(tenant);
    if (held >= this.rule.minInFlight && held > this.rule.inFlightShare * this.totalInFlight) return true;
    const entry = this.busy.get(tenant);
    if (!entry) return false;
    const total = this.decay(this.totalBusy, now).value;
    if (total <= 0) return false;
    const mine = this.decay(entry, now).value;
    if (mine < total * 1e-6) this.busy.delete(tenant);
    return mine > this.rule.processingTimeShare * total;
  }

  /**
   * Up to `count` of `waiting` (in arrival order) as a fair receive returns them: `quiet` tenants'
   * first; then `noisy` tenants', by fewest in flight, to fill the rest only if no quiet one is left.
   */
  choose<T>(waiting: readonly T[], tenantOf: (item: T) => string, count: number, now: number): { quiet: T[]; noisy: T[] } {
    const quiet: T[] = [];
    const noisy: T[] = [];
    const verdicts = new Map<string, boolean>();
    let quietLeft = false;
    for (const item of waiting) {
      const tenant = tenantOf(item);
      let isNoisy = verdicts.get(tenant);
      if (isNoisy === undefined) verdicts.set(tenant, (isNoisy = this.isNoisy(tenant, now)));
      if (isNoisy) noisy.push(item);
      else if (quiet.length < count) quiet.push(item);
      else quietLeft = true;
    }
    if (quietLeft || quiet.length >= count) return { quiet, noisy: [] };
    noisy.sort((a, b) => this.inFlightOf(tenantOf(a)) - this.inFlightOf(tenantOf(b)));
    return { quiet, noisy: noisy.slice(0, count - quiet.length) };
  }

  private decay(entry: Decaying, now: number): Decaying {
    if (now > entry.at) {
      entry.value *= Math.exp(-(now - entry.at) / this.rule.processingTimeConstantMs);
      entry.at = now;
    }
    return entry;
  }
}
