/**
 * The slow lane of the requests queue (docs/scale.md, "A slow lane").
 *
 * An event source invocation lasts until its slowest record, so one record that runs for seconds
 * holds a worker that would otherwise take the next ten quiet requests in a quarter of a second.
 * A fair queue serves a bursting merchant after the quiet ones but still tops a batch up with its
 * messages, so a burst of slow requests ends up holding most of the workers. Each worker instance
 * therefore remembers how long each merchant's requests of each type took, and hands those that
 * took longer than `slowAfterMs` to a second queue with its own, smaller pool of workers instead of
 * running them: the main pool's batches stay fast, and the slow lane's batches are all slow.
 *
 * The memory is the instance's own (no shared count, no write per request): a new instance runs a
 * slow merchant's requests once, learns, and hands the rest over. An entry is forgotten
 * `rememberSeconds` after it was last measured, so a merchant whose requests turned fast again
 * comes back to the main lane within that time; at most `maxTracked` entries are kept.
 */

export interface SlowLaneSettings {
  /** A merchant's requests of a type that took longer than this (smoothed) go to the slow lane. */
  readonly slowAfterMs: number;
  /** A measurement older than this no longer counts. */
  readonly rememberSeconds: number;
  /** Merchant and type pairs remembered at once; the least recently measured is dropped first. */
  readonly maxTracked: number;
}

/** What the router knows of a request before running it. */
export interface LaneKey {
  readonly merchantId: string;
  readonly type: string;
}

interface Measured {
  /** Exponentially smoothed duration: one fast request among slow ones does not bring a merchant back. */
  smoothedMs: number;
  at: number;
}

/** Weight of the newest measurement in the smoothed duration. */
const SMOOTHING = 0.5;

/** One instance's memory of durations, and the lane each request takes from it. */
export class SlowLaneRouter {
  private readonly measured = new Map<string, Measured>();

  constructor(private readonly settings: SlowLaneSettings) {}

  /** Whether a request received on the main queue goes to the slow lane instead of running here. */
  isSlow(key: LaneKey, now: Date): boolean {
    const entry = this.measured.get(keyOf(key));
    if (!entry) return false;
    if (now.getTime() - entry.at > this.settings.rememberSeconds * 1000) {
      this.measured.delete(keyOf(key));
      return false;
    }
    return entry.smoothedMs > this.settings.slowAfterMs;
  }

  /** Records how long a request took here, in either lane. */
  record(key: LaneKey, durationMs: number, now: Date): void {
    const id = keyOf(key);
    const previous = this.measured.get(id);
    const fresh = previous && now.getTime() - previous.at <= this.settings.rememberSeconds * 1000;
    const smoothedMs = fresh ? previous.smoothedMs + SMOOTHING * (durationMs - previous.smoothedMs) : durationMs;
    // Re-inserted so the map's order is the order of last measurement, oldest first.
    this.measured.delete(id);
    this.measured.set(id, { smoothedMs, at: now.getTime() });
    while (this.measured.size > this.settings.maxTracked) this.measured.delete(this.measured.keys().next().value!);
  }

  get tracked(): number {
    return this.measured.size;
  }
}

function keyOf({ merchantId, type }: LaneKey): string {
  return `${merchantId}\u0000${type}`;
}
