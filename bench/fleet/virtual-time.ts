/**
 * Virtual time for the fleet simulation: a clock that jumps from one scheduled event to the next.
 * Herald's use cases are async and run unchanged: what takes time in the model (a receiver's
 * answer, a processor's work, an AWS call) is an awaited `sleep`, which resolves when the clock
 * reaches it. After each instant's events the microtask queue is drained, so every use case
 * runs on until it waits on the clock again.
 */
export class VirtualClock {
  now = 0;
  private readonly heap: { at: number; seq: number; run: () => void }[] = [];
  private seq = 0;

  schedule(at: number, run: () => void): void {
    const entry = { at: Math.max(at, this.now), seq: this.seq++, run };
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (before(heap[parent]!, entry)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.schedule(this.now + ms, resolve));
  }

  date(): Date {
    return new Date(EPOCH + this.now);
  }

  get pending(): number {
    return this.heap.length;
  }

  /** Runs events until none is left before `until` (ms), or `stop` says so after an instant. */
  async run(until: number, stop: () => boolean = () => false): Promise<void> {
    while (this.heap.length > 0 && this.heap[0]!.at <= until) {
      const at = this.heap[0]!.at;
      this.now = at;
      while (this.heap.length > 0 && this.heap[0]!.at === at) this.pop().run();
      await drainMicrotasks();
      if (stop()) return;
    }
    this.now = Math.max(this.now, Math.min(until, this.heap[0]?.at ?? until));
  }

  private pop(): { at: number; seq: number; run: () => void } {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= heap.length) break;
        const right = left + 1;
        const child = right < heap.length && before(heap[right]!, heap[left]!) ? right : left;
        if (before(last, heap[child]!)) break;
        heap[i] = heap[child]!;
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}

/** The simulated fleet's time 0, so dates in records read like real ones. */
export const EPOCH = Date.parse('2026-01-05T09:00:00Z');

function before(a: { at: number; seq: number }, b: { at: number; seq: number }): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A seeded generator (mulberry32): the same seed gives the same fleet and the same run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A log-normal draw with the given median and shape, from two uniform draws (Box–Muller). */
export function logNormal(random: () => number, median: number, sigma: number): number {
  const u = Math.max(random(), 1e-12);
  const v = random();
  return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
}
