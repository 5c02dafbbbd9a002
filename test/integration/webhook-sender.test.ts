import { HttpWebhookTransport, sendWebhook } from '../../lambdas/adapters/http-webhook-sender';
import { SsrfGuard } from '../../lambdas/adapters/ssrf-guard';
import { OPEN_HOST_POLICY } from '../../lambdas/core/webhooks/webhook-url';
import { startReceiver, type WebhookReceiver } from '../support/webhook-receiver';

const limits = { totalTimeoutMs: 500, connectTimeoutMs: 300, maxResponseBytes: 2048 };
const receivers: WebhookReceiver[] = [];

afterAll(() => Promise.all(receivers.map((r) => r.close())));

async function receiver(...args: Parameters<typeof startReceiver>) {
  const started = await startReceiver(...args);
  receivers.push(started);
  return started;
}

/** A target as the guard hands it over: the URL's host name, and the address that was checked. */
function target(url: string, hostname = '127.0.0.1') {
  const parsed = new URL(url.replace('127.0.0.1', hostname));
  return { url: parsed, hostname, localReceiver: true, address: '127.0.0.1', family: 4 as const, ...(hostname === '127.0.0.1' ? { literal: '127.0.0.1' } : {}) };
}

describe('sendWebhook', () => {
  it('connects to the checked address while Host keeps the host name', async () => {
    const hook = await receiver();
    const result = await sendWebhook(target(hook.url, 'receiver.invalid'), { 'content-type': 'application/json' }, '{}', limits);
    expect(result).toMatchObject({ status: 200, responseBody: 'ok' });
    expect(hook.received[0]!.headers.host).toMatch(/^receiver\.invalid:\d+$/);
  });

  it('keeps only the first 2 KiB of a response body', async () => {
    const hook = await receiver(() => ({ status: 200, body: 'x'.repeat(50_000) }));
    const result = await sendWebhook(target(hook.url), {}, '{}', limits);
    expect(result.status).toBe(200);
    expect(result.responseBody).toHaveLength(2048);
  });

  it('does not follow a redirect: a 3xx is the answer', async () => {
    const elsewhere = await receiver();
    const hook = await receiver(() => ({ status: 302, headers: { location: elsewhere.url } }));
    const result = await sendWebhook(target(hook.url), {}, '{}', limits);
    expect(result.status).toBe(302);
    expect(elsewhere.received).toHaveLength(0);
  });

  it('gives up on a receiver that never answers after the total timeout', async () => {
    const hook = await receiver(() => 'hang');
    const result = await sendWebhook(target(hook.url), {}, '{}', limits);
    expect(result).toMatchObject({ error: 'timeout' });
    // It waited the whole budget before giving up (how much longer a loaded machine takes is not behaviour).
    expect(result.latencyMs).toBeGreaterThanOrEqual(450);
  });

  it('reports a closed port as connection_refused', async () => {
    const hook = await startReceiver();
    await hook.close();
    expect(await sendWebhook(target(hook.url), {}, '{}', limits)).toMatchObject({ error: 'connection_refused' });
  });
});

describe('HttpWebhookTransport', () => {
  it('refuses to post to a host that resolves to a private address now, without connecting', async () => {
    const hook = await receiver();
    const port = new URL(hook.url).port;
    const guard = new SsrfGuard(OPEN_HOST_POLICY, async () => [{ address: '127.0.0.1', family: 4 }]);
    const result = await new HttpWebhookTransport(guard, limits).post(`https://rebound.example.com:${port}/hook`, {}, '{}');
    expect(result).toMatchObject({ error: 'unsafe_address', errorMessage: expect.stringMatching(/loopback/) });
    expect(hook.received).toHaveLength(0);
  });

  it('reports a host that does not resolve as dns', async () => {
    const guard = new SsrfGuard(OPEN_HOST_POLICY, async () => {
      throw Object.assign(new Error('nope'), { code: 'ENOTFOUND' });
    });
    expect(await new HttpWebhookTransport(guard, limits).post('https://gone.example.com/x', {}, '{}')).toMatchObject({ error: 'dns' });
  });

  it('ends the attempt as a timeout when DNS does not answer within the attempt timeout', async () => {
    const guard = new SsrfGuard(OPEN_HOST_POLICY, () => new Promise(() => undefined));
    const result = await new HttpWebhookTransport(guard, limits).post('https://slow-dns.example.com/x', {}, '{}');
    expect(result).toMatchObject({ error: 'timeout', errorMessage: expect.stringMatching(/DNS lookup of slow-dns\.example\.com did not answer within 500 ms/) });
  });
});
