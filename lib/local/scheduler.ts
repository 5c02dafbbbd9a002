import type { Context, ScheduledEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { functions, schedules } from '../topology';
import { lambdaContext, loadHandler } from './lambda-context';

type ScheduledHandler = (event: ScheduledEvent, context: Context) => Promise<unknown>;

/**
 * Emulates the EventBridge rules of `schedules`: each function runs on its period, with the
 * event AWS would send. A run still going when the next is due is skipped rather than stacked,
 * as a slow sweeper should not pile up behind itself. `periodMs` overrides every period (tests).
 */
export class LocalScheduler {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly periodMs?: number) {}

  start(): void {
    for (const [name, spec] of Object.entries(schedules)) {
      const period = this.periodMs ?? spec.everyMinutes * 60_000;
      let busy = false;
      const timer = setInterval(() => {
        if (busy) return;
        busy = true;
        const run = this.runOnce(name)
          .catch((error: Error) => console.error(`[schedule ${name}] failed: ${error.message}`))
          .finally(() => {
            busy = false;
            this.running.delete(run);
          });
        this.running.add(run);
      }, period);
      timer.unref();
      this.timers.push(timer);
    }
  }

  /** Runs one schedule's function now, as its rule would. */
  async runOnce(name: string): Promise<unknown> {
    const spec = schedules[name];
    if (!spec) throw new Error(`No schedule ${name} in the topology`);
    const fn = functions[spec.function];
    const handler = loadHandler<ScheduledHandler>(fn);
    const event: ScheduledEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: [`arn:aws:events:us-east-1:000000000000:rule/herald-${name}`],
      detail: {},
    };
    return handler(event, lambdaContext(spec.function, fn));
  }

  async stop(): Promise<void> {
    this.timers.forEach(clearInterval);
    await Promise.allSettled([...this.running]);
  }
}
