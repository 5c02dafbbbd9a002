import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { LocalRuntime } from '../../lib/local/runtime';
import { apiClient, eventually, startTestRuntime } from '../support/local-runtime';

let runtime: LocalRuntime;
let call: ReturnType<typeof apiClient>;
let keys = 0;

beforeAll(async () => {
  runtime = await startTestRuntime('wait');
  call = apiClient(runtime);
});

afterAll(() => runtime?.stop());

async function submitSleep(ms: number, headers: Record<string, string> = {}) {
  return call('POST', '/v1/requests', { body: { type: 'demo.sleep', payload: { ms } }, headers: { 'idempotency-key': `wait-${++keys}`, ...headers } });
}

/** The request once a worker holds it, with the entity tag of that state. */
async function processing(id: string): Promise<string> {
  return eventually(async () => {
    const answer = await call('GET', `/v1/requests/${id}`);
    return answer.body?.status === 'processing' ? answer.headers.get('etag')! : undefined;
  });
}

describe('Prefer: wait on GET /v1/requests/{id}', () => {
  it('answers within a second of the change the client was waiting for', async () => {
    const { body } = await submitSleep(1_500);
    const etag = await processing(body!.id);

    const answer = await call('GET', `/v1/requests/${body!.id}`, { headers: { prefer: 'wait=15', 'if-none-match': etag } });
    const answeredAt = Date.now();

    expect(answer.status).toBe(200);
    expect(answer.body!.status).toBe('succeeded');
    expect(answer.headers.get('preference-applied')).toBe('wait=15');
    expect(answer.headers.get('etag')).not.toBe(etag);
    // The change is the finishing write, stamped updatedAt by the worker.
    expect(answeredAt - Date.parse(answer.body!.updatedAt)).toBeLessThan(1_000);
  });

  it('answers 304 once the wait passes without a change', async () => {
    const { body } = await submitSleep(8_000);
    const etag = await processing(body!.id);
    const started = Date.now();

    const answer = await call('GET', `/v1/requests/${body!.id}`, { headers: { prefer: 'wait=2', 'if-none-match': etag } });

    expect(answer.status).toBe(304);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(answer.headers.get('etag')).toBe(etag);
    expect(answer.headers.get('preference-applied')).toBe('wait=2');
    expect(answer.headers.get('retry-after')).not.toBeNull();
  });

  it('answers a finished request at once, with no copy to compare', async () => {
    const { body } = await submitSleep(0);
    await eventually(async () => ((await call('GET', `/v1/requests/${body!.id}`)).body?.status === 'succeeded' ? true : undefined));
    const started = Date.now();
    const answer = await call('GET', `/v1/requests/${body!.id}`, { headers: { prefer: 'wait=20' } });
    expect(answer.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('answers the calls beyond a merchant\'s 10 waiting ones once their first second passes, without Preference-Applied', async () => {
    const { body } = await submitSleep(10_000);
    const etag = await processing(body!.id);
    const answers = await Promise.all(
      Array.from({ length: 11 }, () => call('GET', `/v1/requests/${body!.id}`, { headers: { prefer: 'wait=3', 'if-none-match': etag } })),
    );
    expect(answers.every((answer) => answer.status === 304)).toBe(true);
    const applied = answers.filter((answer) => answer.headers.get('preference-applied') === 'wait=3');
    expect(applied).toHaveLength(10);
    // Once they ended, their places are free again.
    const again = await call('GET', `/v1/requests/${body!.id}`, { headers: { prefer: 'wait=1', 'if-none-match': etag } });
    expect(again.headers.get('preference-applied')).toBe('wait=1');
  });

  it('ignores a malformed preference and answers at once', async () => {
    const { body } = await submitSleep(5_000);
    const etag = await processing(body!.id);
    const answer = await call('GET', `/v1/requests/${body!.id}`, { headers: { prefer: 'wait=soon', 'if-none-match': etag } });
    expect(answer.status).toBe(304);
    expect(answer.headers.get('preference-applied')).toBeNull();
  });
});

describe('Prefer: respond-async, wait on POST /v1/requests', () => {
  it('answers 200 with the result when the request ends within the wait', async () => {
    const answer = await submitSleep(500, { prefer: 'respond-async, wait=5' });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'succeeded', result: { sleptMs: expect.any(Number) } });
    expect(answer.body!.result.sleptMs).toBeGreaterThanOrEqual(500);
    expect(answer.headers.get('preference-applied')).toBe('wait=5');
    expect(answer.headers.get('location')).toBe(`/v1/requests/${answer.body!.id}`);
  });

  it('answers the usual 202 when the request is still running after the wait', async () => {
    const answer = await submitSleep(5_000, { prefer: 'respond-async, wait=1' });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ status: expect.stringMatching(/accepted|processing/) });
    expect(answer.headers.get('preference-applied')).toBe('respond-async, wait=1');
    expect(answer.headers.get('retry-after')).not.toBeNull();
  });

  it('answers a replay of a finished request with 200 and its result at once', async () => {
    const headers = { prefer: 'respond-async, wait=5', 'idempotency-key': 'wait-replayed' };
    const first = await call('POST', '/v1/requests', { body: { type: 'demo.sleep', payload: { ms: 100 } }, headers });
    const replay = await call('POST', '/v1/requests', { body: { type: 'demo.sleep', payload: { ms: 100 } }, headers });
    expect([first.status, replay.status]).toEqual([200, 200]);
    expect(replay.body!.id).toBe(first.body!.id);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
  });
});

describe('herald requests wait', () => {
  const run = promisify(execFile);
  const herald = (...args: string[]) =>
    run(process.execPath, ['bin/herald.cjs', ...args, '--local'], { cwd: process.cwd(), env: { ...process.env, PORT: String(runtime.port) }, timeout: 30_000 });

  it('waits until the request finishes, shows it and exits 0 when it succeeded', async () => {
    const { body } = await submitSleep(1_500);
    const { stdout } = await herald('requests', 'wait', body!.id, '--json');
    expect(JSON.parse(stdout)).toMatchObject({ id: body!.id, status: 'succeeded' });
  });

  it('exits 1 when the timeout passes first, showing the request as it is', async () => {
    const { body } = await submitSleep(10_000);
    const failure = await herald('requests', 'wait', body!.id, '--timeout', '1', '--json').then(
      () => undefined,
      (error: { code: number; stdout: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(JSON.parse(failure!.stdout).status).toMatch(/accepted|processing/);
  });

  it('refuses a timeout that is not whole seconds with a usage error', async () => {
    const failure = await herald('requests', 'wait', 'req_x', '--timeout', 'soon').then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain('--timeout must be whole seconds');
  });
});
