import type { SimMessage, SimQueue } from './sqs-model';
import type { VirtualClock } from './virtual-time';

/** What a record handler says of its message: done (deleted at the invocation's end), or left on the queue. */
export type RecordVerdict = 'done' | 'redeliver';

export interface InvocationContext {
  /** Which warm instance runs the batch: state a Lambda keeps between invocations (caches, circuits) lives per instance. */
  readonly instance: number;
}

/**
 * Lambda's SQS event source mapping in virtual time: up to `maxConcurrency` invocations at once,
 * each taking up to `batchSize` messages as soon as they are visible (no batching window), its
 * records handled concurrently, and the invocation held until its slowest record ends; only then
 * are the done messages deleted. Instances are reused most-recently-freed first, as warm
 * containers are. An invocation's time is shared evenly among its records when it is attributed.
 */
export class SimEventSource<B> {
  private running = 0;
  private readonly freeInstances: number[] = [];
  private instances = 0;
  private polling = false;
  busyMs = 0;

  constructor(
    private readonly clock: VirtualClock,
    private readonly queue: SimQueue<B>,
    private readonly settings: { readonly batchSize: number; readonly maxConcurrency: number; readonly invocationOverheadMs: number },
    private readonly handle: (message: SimMessage<B>, context: InvocationContext) => Promise<RecordVerdict>,
    private readonly onRecordTime: (message: SimMessage<B>, ms: number) => void = () => undefined,
  ) {
    queue.whenVisible(() => this.poll());
  }

  get active(): number {
    return this.running;
  }

  poll(): void {
    // One poll at a time: a start triggered from inside a receive waits for the loop below.
    if (this.polling) return;
    this.polling = true;
    try {
      while (this.running < this.settings.maxConcurrency && this.queue.depth > 0) {
        const batch = this.queue.receive(this.settings.batchSize);
        if (batch.length === 0) break;
        this.running++;
        void this.invoke(batch);
      }
    } finally {
      this.polling = false;
    }
  }

  private async invoke(batch: SimMessage<B>[]): Promise<void> {
    const instance = this.freeInstances.pop() ?? this.instances++;
    const started = this.clock.now;
    await this.clock.sleep(this.settings.invocationOverheadMs);
    const verdicts = await Promise.all(
      batch.map((message) =>
        this.handle(message, { instance }).catch((error: unknown) => {
          // A record that throws fails alone (ReportBatchItemFailures): it reappears after its visibility timeout.
          console.error(`record failed: ${(error as Error).stack ?? String(error)}`);
          return 'redeliver' as const;
        }),
      ),
    );
    const held = this.clock.now - started;
    this.busyMs += held;
    batch.forEach((message, i) => {
      // The invocation's time shared by its records: what one concurrency slot spent on each.
      this.onRecordTime(message, held / batch.length);
      // SQS counts a message's time from its receive to its delete, the whole invocation.
      this.queue.settle(message, verdicts[i] === 'done', held);
    });
    this.running--;
    this.freeInstances.push(instance);
    this.poll();
  }
}
