import type { DeliveryMessage } from './delivery-message';
import type { DeliveryMessageSender, DeliveryQueue } from './ports';

/** Some of a record's delivery messages could not be sent: the record must come back, so its fan-out runs again. */
export class DeliveryMessagesNotSent extends Error {
  override readonly name = 'DeliveryMessagesNotSent';

  constructor(
    readonly unsent: number,
    readonly of: number,
  ) {
    super(`${unsent} of ${of} delivery messages were not sent`);
  }
}

/** SendMessageBatch takes ten entries: once that many wait, waiting longer saves no call. */
const FULL_CALL = 10;

interface WaitingSend {
  readonly messages: readonly DeliveryMessage[];
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export interface GatheringTimers {
  readonly setTimeout: (run: () => void, ms: number) => unknown;
  readonly clearTimeout: (timer: unknown) => void;
}

/**
 * The delivery messages of one batch of records, sent together: each record's fan-out hands its
 * messages over and waits, and they go in one `sendEach` (one SendMessageBatch call for up to ten)
 * as soon as no record of the batch can add more (each is waiting here, being sent, or done), ten
 * are waiting, or `maxWaitMs` passed since the first of them: a record whose processor is slow
 * delays its neighbours' webhooks by that much at most.
 *
 * Nothing is lost: a send resolves only once all its messages went, and rejects (so its record
 * comes back through `batchItemFailures` and fans out again) when any of them did not; the other
 * records of the call are unaffected. Sends that carry a delay go straight to the queue.
 *
 * @example
 * const gathering = new DeliverySendGathering(queue, records.length, 200);
 * // per record, concurrently: await gathering.send(messages) ... finally gathering.recordSettled()
 */
export class DeliverySendGathering implements DeliveryQueue {
  private waiting: WaitingSend[] = [];
  private waitingMessages = 0;
  private inFlight = 0;
  private settled = 0;
  private timer: unknown;

  constructor(
    private readonly queue: DeliveryQueue & DeliveryMessageSender,
    private readonly records: number,
    private readonly maxWaitMs: number,
    private readonly timers: GatheringTimers = { setTimeout: (run, ms) => setTimeout(run, ms), clearTimeout: (timer) => clearTimeout(timer as never) },
  ) {}

  send(messages: readonly DeliveryMessage[], options?: { readonly delaySeconds?: number }): Promise<void> {
    if (options?.delaySeconds !== undefined || messages.length === 0) return this.queue.send(messages, options);
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ messages, resolve, reject });
      this.waitingMessages += messages.length;
      if (this.noRecordCanAdd() || this.waitingMessages >= FULL_CALL) this.flush();
      else this.timer ??= this.timers.setTimeout(() => this.flush(), this.maxWaitMs);
    });
  }

  delayRedelivery(receiptHandle: string, seconds: number): Promise<void> {
    return this.queue.delayRedelivery(receiptHandle, seconds);
  }

  /** A record of the batch is done, whatever its outcome: it will add no more messages. */
  recordSettled(): void {
    this.settled += 1;
    if (this.waiting.length > 0 && this.noRecordCanAdd()) this.flush();
  }

  /** One waiting send counts for its record: a record hands its messages over once at a time. */
  private noRecordCanAdd(): boolean {
    return this.settled + this.inFlight + this.waiting.length >= this.records;
  }

  private flush(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    const sends = this.waiting;
    this.waiting = [];
    this.waitingMessages = 0;
    if (sends.length === 0) return;
    this.inFlight += sends.length;
    void this.sendTogether(sends);
  }

  private async sendTogether(sends: readonly WaitingSend[]): Promise<void> {
    const all = sends.flatMap((send) => send.messages);
    let unsent: ReadonlySet<number>;
    try {
      unsent = new Set(await this.queue.sendEach(all));
    } catch (error) {
      this.inFlight -= sends.length;
      for (const send of sends) send.reject(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    // Before any record resumes: one that sends again must not also count as still in flight.
    this.inFlight -= sends.length;
    let position = 0;
    for (const send of sends) {
      const first = position;
      position += send.messages.length;
      const failed = send.messages.filter((_, i) => unsent.has(first + i)).length;
      if (failed > 0) send.reject(new DeliveryMessagesNotSent(failed, send.messages.length));
      else send.resolve();
    }
  }
}
