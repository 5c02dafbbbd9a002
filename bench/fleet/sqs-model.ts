import { FAIR_QUEUE_RULE, TenantLoad } from '../../lib/local/fair-queue';
import type { VirtualClock } from './virtual-time';

/** One message as the model keeps it: the body stays an object (the use cases get it parsed). */
export interface SimMessage<B> {
  readonly id: number;
  readonly body: B;
  readonly tenant: string;
  receiveCount: number;
  /** Bumped by every receive and visibility change: a scheduled reappearance of an older one is void. */
  generation: number;
  state: 'delayed' | 'visible' | 'inFlight' | 'deleted' | 'deadLettered';
  receivedAt: number;
}

/**
 * A standard SQS queue in virtual time: delays, visibility timeouts (a received message reappears
 * unless deleted; ChangeMessageVisibility moves that), receive counts, and the redrive policy (a
 * receive that finds a message already received maxReceiveCount times moves it to the DLQ).
 * Receives return the oldest visible messages, or, as a fair queue, apply AWS's rule
 * (lib/local/fair-queue.ts) over the whole queue with the message group as the tenant.
 */
export class SimQueue<B> {
  readonly deadLetters: SimMessage<B>[] = [];
  readonly load: TenantLoad;
  private readonly visible: SimMessage<B>[] = [];
  private head = 0;
  /** Noisy tenants' messages set aside by fair receives, in arrival order per tenant. */
  private readonly parked = new Map<string, SimMessage<B>[]>();
  private nextId = 1;
  private onVisible: () => void = () => undefined;
  visibleCount = 0;
  inFlightCount = 0;
  /** Messages neither deleted nor dead-lettered: the queue has drained when it is 0. */
  outstanding = 0;

  constructor(
    private readonly clock: VirtualClock,
    private readonly settings: {
      readonly visibilityTimeoutSeconds: number;
      readonly maxReceiveCount: number;
      readonly fair: boolean;
      /** AWS's minimum of 30 in-flight messages, for a fleet of this size (see docs/scale.md). */
      readonly minInFlight?: number;
    },
  ) {
    this.load = new TenantLoad({ ...FAIR_QUEUE_RULE, minInFlight: settings.minInFlight ?? FAIR_QUEUE_RULE.minInFlight });
  }

  /** Called whenever a message becomes visible: the event source's cue to poll. */
  whenVisible(listener: () => void): void {
    this.onVisible = listener;
  }

  send(body: B, tenant: string, delaySeconds = 0): void {
    const message: SimMessage<B> = { id: this.nextId++, body, tenant, receiveCount: 0, generation: 0, state: 'delayed', receivedAt: 0 };
    this.outstanding++;
    if (delaySeconds > 0) this.appearAt(message, this.clock.now + delaySeconds * 1000);
    else this.appear(message);
  }

  get depth(): number {
    return this.visibleCount;
  }

  receive(max: number): SimMessage<B>[] {
    const taken: SimMessage<B>[] = [];
    const now = this.clock.now;
    const accept = (message: SimMessage<B>): void => {
      this.visibleCount--;
      if (message.receiveCount >= this.settings.maxReceiveCount) {
        message.state = 'deadLettered';
        this.outstanding--;
        this.deadLetters.push(message);
        return;
      }
      message.receiveCount++;
      message.generation++;
      message.state = 'inFlight';
      message.receivedAt = now;
      this.inFlightCount++;
      this.load.received(message.tenant);
      this.appearAt(message, now + this.settings.visibilityTimeoutSeconds * 1000);
      taken.push(message);
    };
    if (this.settings.fair) {
      // Parked messages of tenants that turned quiet come first: they arrived before the rest.
      for (const [tenant, waiting] of this.parked) {
        if (this.load.isNoisy(tenant, now)) continue;
        while (waiting.length > 0 && taken.length < max) accept(waiting.shift()!);
        if (waiting.length === 0) this.parked.delete(tenant);
        if (taken.length >= max) return taken;
      }
    }
    while (taken.length < max && this.head < this.visible.length) {
      const message = this.visible[this.head++]!;
      if (message.state !== 'visible') continue;
      if (this.settings.fair && this.load.isNoisy(message.tenant, now)) {
        const waiting = this.parked.get(message.tenant);
        if (waiting) waiting.push(message);
        else this.parked.set(message.tenant, [message]);
        continue;
      }
      accept(message);
    }
    this.compact();
    if (taken.length < max && this.parked.size > 0) {
      // No quiet message waits: noisy tenants' messages, the tenant with the fewest in flight first.
      const tenants = [...this.parked.keys()].sort((a, b) => this.load.inFlightOf(a) - this.load.inFlightOf(b));
      for (const tenant of tenants) {
        const waiting = this.parked.get(tenant)!;
        while (waiting.length > 0 && taken.length < max) accept(waiting.shift()!);
        if (waiting.length === 0) this.parked.delete(tenant);
        if (taken.length >= max) break;
      }
    }
    return taken;
  }

  /** The consumer is done with a received message: deleted, or left to reappear; `busyMs` is its time with the consumer. */
  settle(message: SimMessage<B>, remove: boolean, busyMs: number): void {
    this.load.settled(message.tenant, busyMs, this.clock.now);
    if (!remove) return;
    if (message.state === 'inFlight') this.inFlightCount--;
    if (message.state === 'inFlight' || message.state === 'delayed') {
      message.state = 'deleted';
      this.outstanding--;
    }
  }

  changeVisibility(message: SimMessage<B>, seconds: number): void {
    if (message.state !== 'inFlight') return;
    this.appearAt(message, this.clock.now + seconds * 1000);
  }

  private appearAt(message: SimMessage<B>, at: number): void {
    const generation = ++message.generation;
    this.clock.schedule(at, () => {
      if (message.generation !== generation || message.state === 'deleted' || message.state === 'deadLettered') return;
      if (message.state === 'inFlight') this.inFlightCount--;
      this.appear(message);
    });
  }

  private appear(message: SimMessage<B>): void {
    message.state = 'visible';
    this.visibleCount++;
    this.visible.push(message);
    this.onVisible();
  }

  private compact(): void {
    if (this.head > 4096 && this.head * 2 > this.visible.length) {
      this.visible.splice(0, this.head);
      this.head = 0;
    }
  }
}
