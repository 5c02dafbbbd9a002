import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { maxBackoffSeconds } from '../../lambdas/core/shared/backoff';
import type { HistoryEntry } from '../../lambdas/core/requests/request';
import { run as redriveCommand } from '../../lib/cli/redrive';
import type { LocalRuntime } from '../../lib/local/runtime';
import { ENV } from '../../lambdas/settings/environment';
import { queues } from '../../lib/topology';
import { apiClient, eventually, startTestRuntime } from '../support/local-runtime';

const RETRY_SCALE = 0.5;

let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let sqs: SQSClient;

beforeAll(async () => {
  runtime = await startTestRuntime('redrive', { retryScale: RETRY_SCALE });
  api = apiClient(runtime);
  sqs = new SQSClient({ endpoint: runtime.endpoints.sqs });
});

afterAll(async () => {
  sqs?.destroy();
  await runtime?.stop();
});

let keys = 0;
async function submit(type: string, payload: Record<string, unknown>): Promise<string> {
  const response = await api('POST', '/v1/requests', { body: { type, payload }, headers: { 'idempotency-key': `redrive-${++keys}` } });
  expect(response.status).toBe(202);
  return response.body!.id;
}

async function poll(id: string) {
  return (await api('GET', `/v1/requests/${id}`)).body!;
}

async function until(id: string, status: string, timeoutMs = 20_000) {
  return eventually(async () => {
    const request = await poll(id);
    return request.status === status ? request : undefined;
  }, timeoutMs);
}

async function count(queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes!.ApproximateNumberOfMessages) + Number(Attributes!.ApproximateNumberOfMessagesNotVisible);
}

/** Runs `herald redrive …` against this runtime and returns what it printed. */
async function herald(...args: string[]): Promise<string> {
  const printed: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
  const progress = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await redriveCommand([...args, '--local', '--port', String(runtime.port)]);
  } finally {
    log.mockRestore();
    progress.mockRestore();
  }
  return printed.join('\n');
}

const order = (simulate: Record<string, unknown>) => ({
  orderId: `ord-${keys}`,
  currency: 'EUR',
  items: [{ sku: 'coffee', quantity: 1, unitPriceCents: 900 }],
  simulate,
});

describe('retries', () => {
  it('retries transient failures after growing, jittered delays, and then succeeds', async () => {
    const ids = await Promise.all(Array.from({ length: 6 }, () => submit('order.process', order({ failFirstAttempts: 3 }))));
    const done = await Promise.all(ids.map((id) => until(id, 'succeeded', 45_000)));

    const delays = done.map((request) => {
      expect(request.attempts).toBe(4);
      const history = request.history as HistoryEntry[];
      const retries = history.filter((h) => h.to === 'accepted' && h.from === 'processing');
      expect(retries).toHaveLength(3);
      return retries.map((retry, index) => {
        const delay = Number(/^retrying in (\d+)s/.exec(retry.reason!)![1]);
        // Never above the schedule's cap for that attempt (1 s, 2 s, 4 s at this scale)…
        expect(delay).toBeLessThanOrEqual(maxBackoffSeconds(queues.requests.retry, index + 1, RETRY_SCALE));
        // …and the next attempt really waited for it (SQS hides the message for whole seconds).
        const next = history[history.indexOf(retry) + 1]!;
        expect(next.to).toBe('processing');
        expect(Date.parse(next.at) - Date.parse(retry.at)).toBeGreaterThanOrEqual(delay * 1000 - 100);
        return delay;
      });
    });
    // Full jitter: the delays differ between requests; and third attempts wait longer than first ones overall
    // (expected 2 s against 0.5 s each; the unit test of backoffDelaySeconds checks the distribution itself).
    expect(new Set(delays.flat()).size).toBeGreaterThan(1);
    const total = (attempt: number) => delays.reduce((sum, d) => sum + d[attempt]!, 0);
    expect(total(2)).toBeGreaterThan(total(0));
  });
});

describe('chaos', () => {
  beforeAll(() => {
    process.env[ENV.retryScale] = '0';
  });

  it('finishes every request exactly once when a third of all attempts fail at random', async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, () => submit('order.process', order({ transientFailureRate: 0.3 }))));
    const finished = await Promise.all(
      ids.map((id) =>
        eventually(async () => {
          const request = await poll(id);
          return request.status === 'succeeded' || request.status === 'failed' ? request : undefined;
        }, 45_000),
      ),
    );

    for (const request of finished) {
      const history = request.history as HistoryEntry[];
      expect(history.filter((h) => h.to === 'processing')).toHaveLength(request.attempts);
      expect(history.filter((h) => h.to === 'succeeded' || h.to === 'failed')).toHaveLength(1);
      // Failing 5 attempts in a row at 30 % is rare (0.24 %), and then the request is failed by exhaustion, never refused.
      if (request.status === 'failed') expect(request).toMatchObject({ attempts: queues.requests.retry.maxAttempts, error: { retryable: true } });
    }
    expect(finished.filter((r) => r.status === 'succeeded').length).toBeGreaterThanOrEqual(18);
  });
});

describe('herald redrive', () => {
  beforeAll(() => {
    // Exhaust attempts quickly: the worker reads the scale at every invocation.
    process.env[ENV.retryScale] = '0';
  });

  it('moves dead letters back, reopens the request once, and finds nothing to move the second time', async () => {
    const { url, deadLetterUrl } = runtime.resources.queues.requests;
    const unavailableUntil = new Date(Date.now() + 4_000).toISOString();
    const id = await submit('order.process', order({ unavailableUntil }));

    const failed = await until(id, 'failed');
    expect(failed).toMatchObject({ attempts: queues.requests.retry.maxAttempts, error: { code: 'order_service_unavailable', retryable: true } });
    await eventually(async () => ((await count(deadLetterUrl)) === 1 ? true : undefined));
    // At-least-once: a second copy of the same dead letter must not run the work twice.
    await sqs.send(new SendMessageCommand({ QueueUrl: deadLetterUrl, MessageBody: JSON.stringify({ requestId: id, merchantId: runtime.merchantId, type: 'order.process' }) }));

    const dryRun = await herald('requests', '--dry-run');
    expect(dryRun).toContain('Dry run: 2 message(s) in the requests DLQ');
    expect(dryRun).toContain(id);
    expect(await count(deadLetterUrl)).toBe(2);

    await new Promise((resolve) => setTimeout(resolve, Math.max(Date.parse(unavailableUntil) - Date.now() + 100, 0)));
    expect(await herald('requests')).toMatch(/^Moved 2 of 2 message\(s\) from the requests DLQ back to the queue in batches \(redrive \d+\)\.$/);

    const done = await until(id, 'succeeded');
    expect(done.attempts).toBe(1);
    const history = done.history as HistoryEntry[];
    expect(history.filter((h) => h.reason === 'redriven')).toHaveLength(1);
    expect(history.filter((h) => h.to === 'succeeded')).toHaveLength(1);
    await eventually(async () => ((await count(url)) === 0 && !runtime.busy() ? true : undefined));
    expect(await count(deadLetterUrl)).toBe(0);

    expect(await herald('requests')).toMatch(/^Moved 0 of 0 message\(s\)/);
    expect((await poll(id)).updatedAt).toBe(done.updatedAt);
  });

  it('moves at most --max messages', async () => {
    const { deadLetterUrl } = runtime.resources.queues.requests;
    const ids = await Promise.all([submit('demo.fail', {}), submit('demo.fail', {})]);
    await Promise.all(ids.map((id) => until(id, 'failed')));
    await eventually(async () => ((await count(deadLetterUrl)) === 2 ? true : undefined));

    expect(await herald('requests', '--max', '1')).toMatch(/^Moved 1 of 2 message\(s\)/);

    // demo.fail fails again: the one redriven request runs a new round and dead-letters again.
    await eventually(async () => {
      const requests = await Promise.all(ids.map(poll));
      const redriven = requests.filter((r) => (r.history as HistoryEntry[]).some((h) => h.reason === 'redriven'));
      return redriven.length === 1 && redriven[0]!.status === 'failed' ? true : undefined;
    });
    await eventually(async () => ((await count(deadLetterUrl)) === 2 ? true : undefined));
  });
});
