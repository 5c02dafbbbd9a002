import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restartablePort } from '../../lib/local/free-port';
import { startRuntimeProcess, type RuntimeProcess } from '../../bench/chaos/runtime-process';
import { eventually } from '../support/local-runtime';
import { startReceiver, type WebhookReceiver } from '../support/webhook-receiver';

// A crash test runs the runtime as a process of its own (and its own DynamoDB Local), since only
// a separate process can be killed without warning and started again on the same directory.
jest.setTimeout(240_000);

const API_KEY = 'hrld_recovery_0123456789abcdefghij';
const REQUESTS = 30;

let dataDir: string;
let port: number;
let runtime: RuntimeProcess | undefined;
let receiver: WebhookReceiver;
// The receiver refuses every webhook until the crash, so deliveries are pending in backoff then.
let receiverHealthy = false;

const start = async () => {
  runtime = startRuntimeProcess({
    entry: 'bin/local.ts',
    args: ['--data-dir', dataDir],
    port,
    env: { HERALD_LOCAL_API_KEY: API_KEY, POWERTOOLS_LOG_LEVEL: 'WARN' },
  });
  await runtime.ready();
  return runtime;
};

const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${API_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
};

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'herald-recovery-'));
  port = await restartablePort();
  receiver = await startReceiver(() => (receiverHealthy ? { status: 204 } : { status: 503 }));
});

afterAll(async () => {
  await runtime?.stop();
  await receiver?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('recovery at start', () => {
  const ids: string[] = [];

  it('leaves requests and deliveries unfinished when the runtime is killed with SIGKILL', async () => {
    await start();
    const endpoint = await api('POST', '/v1/webhooks', { url: receiver.url });
    expect(endpoint.status).toBe(201);
    // Quick ones finish (and fail their first webhooks); slow ones are mid-work at the crash.
    for (let i = 0; i < REQUESTS; i++) {
      const submitted = await api('POST', '/v1/requests', { type: 'demo.sleep', payload: { ms: i % 3 === 0 ? 50 : 1_500 } }, { 'idempotency-key': `crash-${i}` });
      expect(submitted.status).toBe(202);
      ids.push(submitted.body!.id);
    }
    // A delivery has a record only once its first attempt has ended: a webhook that merely
    // arrived may still be unrecorded, and on a busy machine the crash would find none pending.
    await eventually(async () => (receiver.received.length >= 3 ? true : undefined), 30_000);
    await eventually(async () => {
      const recorded = await api('GET', `/v1/webhooks/${endpoint.body!.id}/deliveries`);
      return (recorded.body?.data as { state: string; attempts: unknown[] }[] | undefined)?.some((d) => d.state === 'pending' && d.attempts.length > 0) ? true : undefined;
    }, 30_000);
    await runtime!.crash();

    expect(receiver.received.every((hook) => hook.headers['webhook-id'])).toBe(true);
  });

  it('re-enqueues every unfinished request and pending delivery at once when it starts on the same directory', async () => {
    receiverHealthy = true;
    const restarted = await start();
    // Recovery queries every shard of the status index for each kind of open work (several
    // hundred queries): on a busy machine that alone takes tens of seconds.
    const line = await eventually(async () => restarted.lines.find((l) => l.startsWith('Recovered at start:')), 90_000);
    const [, requests, deliveries] = /(\d+) requests and (\d+) deliveries/.exec(line)!;
    expect(Number(requests)).toBeGreaterThan(0);
    expect(Number(deliveries)).toBeGreaterThan(0);
  });

  it('then finishes every request and delivers every webhook, within the leases and sweeper periods it would otherwise wait out', async () => {
    // Without recovery, enqueue marks are trusted for 15 minutes and pending deliveries wait 15
    // minutes past due: this wait is far shorter than either.
    const statuses = await eventually(async () => {
      const polled = await Promise.all(ids.map((id) => api('GET', `/v1/requests/${id}`)));
      return polled.every((p) => p.body?.status === 'succeeded') ? polled : undefined;
    }, 120_000, 500);
    expect(statuses).toHaveLength(REQUESTS);

    const deliveredIds = await eventually(async () => {
      const delivered = new Set(
        receiver.received
          .filter((hook) => hook.body.includes('request.succeeded'))
          .map((hook) => (JSON.parse(hook.body) as { data: { id: string } }).data.id),
      );
      return ids.every((id) => delivered.has(id)) ? delivered : undefined;
    }, 120_000, 500);
    expect(deliveredIds.size).toBe(REQUESTS);
  });
});
