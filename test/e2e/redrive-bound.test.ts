import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { HistoryEntry } from '../../lambdas/core/requests/request';
import { run as redriveCommand } from '../../lib/cli/redrive';
import type { LocalRuntime } from '../../lib/local/runtime';
import { ENV } from '../../lambdas/settings/environment';
import { queues } from '../../lib/topology';
import { apiClient, eventually, startTestRuntime } from '../support/local-runtime';

const ATTEMPTS = queues.requests.retry.maxAttempts;

let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let sqs: SQSClient;

beforeAll(async () => {
  // Attempts fail and retry at once: a reopened round is back in the DLQ within seconds.
  process.env[ENV.retryScale] = '0';
  runtime = await startTestRuntime('redrive-bound', { retryScale: 0 });
  api = apiClient(runtime);
  sqs = new SQSClient({ endpoint: runtime.endpoints.sqs });
});

afterAll(async () => {
  sqs?.destroy();
  await runtime?.stop();
});

async function depth(queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes!.ApproximateNumberOfMessages) + Number(Attributes!.ApproximateNumberOfMessagesNotVisible);
}

async function show(id: string) {
  return (await api('GET', `/v1/requests/${id}`)).body!;
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

/** The rows of the rounds after the redrive: everything from the `redriven` row on. */
function afterRedrive(history: HistoryEntry[]): HistoryEntry[] {
  return history.slice(history.findIndex((row) => row.reason === 'redriven'));
}

describe('a batch redrive of requests that fail again', () => {
  it('ends by itself, moves no more than were waiting, and gives each request exactly one new round', async () => {
    const { deadLetterUrl } = runtime.resources.queues.requests;
    const ids: string[] = [];
    for (let n = 0; n < 3; n++) {
      const response = await api('POST', '/v1/requests', { body: { type: 'demo.fail', payload: {} }, headers: { 'idempotency-key': `again-${n}` } });
      expect(response.status).toBe(202);
      ids.push(response.body!.id as string);
    }
    await eventually(async () => ((await Promise.all(ids.map(show))).every((r) => r.status === 'failed') ? true : undefined), 60_000);
    await eventually(async () => ((await depth(deadLetterUrl)) === ids.length ? true : undefined), 30_000);

    const printed = await herald('requests', '--json');
    const report = JSON.parse(printed) as { waiting: number; moved: number; failed: number; cameBack?: number };
    expect(report.waiting).toBe(ids.length);
    expect(report.moved).toBeLessThanOrEqual(report.waiting);
    expect(report.moved + report.failed).toBe(ids.length);

    // Each reopened request runs one whole new round, fails again and waits in the DLQ for the next redrive.
    const requests = await eventually(async () => {
      const current = await Promise.all(ids.map(show));
      // Failed with every attempt used is also how they stood before the redrive: wait for the new round's end.
      const reopenedAndFailed = (r: Record<string, unknown>) =>
        r.status === 'failed' && r.attempts === ATTEMPTS && (r.history as HistoryEntry[]).some((row) => row.reason === 'redriven');
      return current.every(reopenedAndFailed) ? current : undefined;
    }, 60_000);
    await eventually(async () => ((await depth(deadLetterUrl)) === ids.length && !runtime.busy() ? true : undefined), 30_000);
    for (const request of requests) {
      const history = request.history as HistoryEntry[];
      expect(history.filter((row) => row.reason === 'redriven')).toHaveLength(1);
      const round = afterRedrive(history);
      expect(round.filter((row) => row.to === 'processing')).toHaveLength(ATTEMPTS);
      expect(round.filter((row) => row.to === 'failed')).toHaveLength(1);
    }
    // Nothing moved them again: the worker saw no further copies once the run ended.
    const settled = await Promise.all(ids.map(show));
    expect(settled.map((r) => r.updatedAt)).toEqual(requests.map((r) => r.updatedAt));
  }, 180_000);

  it('reopens a request again only under a new redrive, once more', async () => {
    const { deadLetterUrl } = runtime.resources.queues.requests;
    const response = await api('POST', '/v1/requests', { body: { type: 'demo.fail', payload: {} }, headers: { 'idempotency-key': 'twice' } });
    const id = response.body!.id as string;
    await eventually(async () => ((await show(id)).status === 'failed' ? true : undefined), 60_000);
    await eventually(async () => ((await depth(deadLetterUrl)) >= 1 && !runtime.busy() ? true : undefined), 30_000);

    for (let redrive = 1; redrive <= 2; redrive++) {
      const before = await depth(deadLetterUrl);
      const line = await herald('requests');
      const [, moved, waiting] = /^Moved (\d+) of (\d+) message\(s\)/.exec(line)!;
      expect(Number(moved)).toBeLessThanOrEqual(Number(waiting));
      expect(Number(waiting)).toBe(before);
      await eventually(async () => {
        const request = await show(id);
        const reopened = (request.history as HistoryEntry[]).filter((row) => row.reason === 'redriven').length;
        return request.status === 'failed' && reopened === redrive ? true : undefined;
      }, 60_000);
      await eventually(async () => ((await depth(deadLetterUrl)) === before && !runtime.busy() ? true : undefined), 30_000);
    }
  }, 180_000);
});
