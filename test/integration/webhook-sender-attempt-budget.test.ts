import { HttpWebhookTransport } from '../../lambdas/adapters/http-webhook-sender';
import { SsrfGuard } from '../../lambdas/adapters/ssrf-guard';
import { OPEN_HOST_POLICY } from '../../lambdas/core/webhooks/webhook-url';
import { startReceiver, type WebhookReceiver } from '../support/webhook-receiver';

// One receiver that never answers serves both cases: each attempt hangs on its own connection.
let hook: WebhookReceiver;
beforeAll(async () => {
  hook = await startReceiver(() => 'hang');
});
afterAll(() => hook?.close());

// The local runtime's policy: plain http to a receiver on this machine.
const guard = () => new SsrfGuard({ ...OPEN_HOST_POLICY, localReceivers: new Set(['127.0.0.1']) });

describe('HttpWebhookTransport with a per-attempt budget', () => {
  it('gives up on a hanging receiver after the shorter budget, not the transport\'s own timeout', async () => {
    const transport = new HttpWebhookTransport(guard(), { totalTimeoutMs: 60_000, connectTimeoutMs: 1_000, maxResponseBytes: 2048 });
    const result = await transport.post(hook.url, {}, '{}', { timeoutMs: 300 });
    expect(result).toMatchObject({ error: 'timeout', errorMessage: expect.stringMatching(/^no complete response within ([12][0-9]{2}|300) ms$/) });
  }, 30_000);

  it('never lengthens the transport\'s own timeout', async () => {
    const transport = new HttpWebhookTransport(guard(), { totalTimeoutMs: 300, connectTimeoutMs: 300, maxResponseBytes: 2048 });
    const result = await transport.post(hook.url, {}, '{}', { timeoutMs: 60_000 });
    expect(result).toMatchObject({ error: 'timeout', errorMessage: expect.stringMatching(/^no complete response within ([12][0-9]{2}|300) ms$/) });
  }, 30_000);
});
