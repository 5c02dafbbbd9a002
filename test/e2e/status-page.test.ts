import { request as httpRequest } from 'node:http';
import type { Browser } from 'playwright-core';
import type { LocalRuntime } from '../../lib/local/runtime';
import { launchBrowser } from '../support/browser';
import { apiClient, eventually, startTestRuntime } from '../support/local-runtime';

let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startTestRuntime('statuspage');
});

afterAll(() => runtime?.stop());

const PAYLOAD_MARK = 'payload-secret-7d1f';

async function submitted(key: string, ms = 1_500) {
  const response = await apiClient(runtime)('POST', '/v1/requests', {
    body: { type: 'demo.sleep', payload: { ms, note: PAYLOAD_MARK } },
    headers: { 'idempotency-key': key },
  });
  expect(response.status).toBe(202);
  return response.body as { id: string; statusUrl: string };
}

/** What anyone holding the URL sees: no API key sent. */
const visit = (url: string, accept?: string) => fetch(url, accept ? { headers: { accept } } : {});

describe('the statusUrl of an accepted request', () => {
  it('is an absolute URL on the API host whose token is not the request id, the same on a replay', async () => {
    const first = await submitted('page-1');
    expect(first.statusUrl).toMatch(new RegExp(`^${runtime.url}/v1/status/[A-Za-z0-9_-]{40,}$`));
    expect(first.statusUrl).not.toContain(first.id);
    expect((await submitted('page-1')).statusUrl).toBe(first.statusUrl);
  });

  it('is built on the runtime\'s own address, never on a foreign Host or X-Forwarded-Proto the client sends', async () => {
    const body = JSON.stringify({ type: 'demo.sleep', payload: { ms: 1 } });
    // Raw HTTP: fetch will not send a Host of the caller's choosing.
    const answer = await new Promise<{ status: number; body: Record<string, string> }>((resolve, reject) => {
      const call = httpRequest(
        `${runtime.url}/v1/requests`,
        {
          method: 'POST',
          headers: {
            host: 'evil.example:8443',
            'x-forwarded-proto': 'javascript:alert(1)//',
            'x-forwarded-host': 'evil.example',
            authorization: `Bearer ${runtime.apiKey}`,
            'idempotency-key': 'page-hostile-host',
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
          },
        },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as Record<string, string> }));
        },
      );
      call.on('error', reject);
      call.end(body);
    });

    expect(answer.status).toBe(202);
    expect(answer.body.statusUrl).toMatch(new RegExp(`^${runtime.url}/v1/status/[A-Za-z0-9_-]{40,}$`));
  });

  it('answers JSON without an API key, with only the status, the type and the times', async () => {
    const { id, statusUrl } = await submitted('page-2', 1);
    const done = await eventually(async () => {
      const response = await visit(statusUrl);
      const body = (await response.json()) as Record<string, unknown>;
      return body.status === 'succeeded' ? { response, body } : undefined;
    });
    expect(done.response.status).toBe(200);
    expect(done.response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(Object.keys(done.body).sort()).toEqual(['createdAt', 'displayName', 'status', 'type', 'updatedAt']);
    expect(done.body.displayName).toBe('Demo task');
    const text = JSON.stringify(done.body);
    for (const leak of [id, runtime.merchantId, PAYLOAD_MARK, 'sleptMs', 'payload', 'merchant', 'history']) expect(text).not.toContain(leak);
  });

  it('answers a browser with an accessible page that refreshes itself until the request is finished, and leaks nothing', async () => {
    const { id, statusUrl } = await submitted('page-3', 3_000);
    const running = await visit(statusUrl, 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8');
    expect(running.status).toBe(200);
    expect(running.headers.get('content-type')).toMatch(/^text\/html/);
    const page = await running.text();
    expect(page).toMatch(/<html lang="en">/);
    expect(page).toMatch(/<meta http-equiv="refresh" content="\d+">/);
    expect(page).toMatch(/role="status"/);
    // The customer reads the processor's display name, not the internal type.
    expect(page).toContain('<dd>Demo task</dd>');
    expect(page).not.toContain('demo.sleep');
    for (const leak of [id, runtime.merchantId, PAYLOAD_MARK, 'payload', 'merchant']) expect(page).not.toContain(leak);

    const finished = await eventually(async () => {
      const html = await (await visit(statusUrl, 'text/html')).text();
      return html.includes('<dd>succeeded</dd>') ? html : undefined;
    });
    expect(finished).not.toContain('http-equiv="refresh"');
  });

  it('is a 404 for a forged or altered token, like an unknown request', async () => {
    const { statusUrl } = await submitted('page-4', 1);
    const token = statusUrl.slice(statusUrl.lastIndexOf('/') + 1);
    const altered = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    for (const url of [`${runtime.url}/v1/status/${altered}`, `${runtime.url}/v1/status/not-a-token`]) {
      const response = await visit(url);
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
    }
  });

  it('answers a browser holding a forged or expired link with a page that says so, not a problem document', async () => {
    const response = await visit(`${runtime.url}/v1/status/not-a-token`, 'text/html,application/xhtml+xml,*/*;q=0.8');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    const page = await response.text();
    expect(page).toContain('<h1>This status link does not work</h1>');
    expect(page).not.toContain('problem');
  });
});

describe('the status page in a browser', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(() => browser?.close());

  it("shows the request's times in the reader's time zone, under the page's own CSP", async () => {
    const { statusUrl } = await submitted('page-5', 1);
    const context = await browser.newContext({ timezoneId: 'Asia/Tokyo', locale: 'en-GB' });
    try {
      const tab = await context.newPage();
      const blocked: string[] = [];
      tab.on('console', (message) => message.type() === 'error' && blocked.push(message.text()));
      await tab.goto(statusUrl);
      const received = tab.locator('time').first();
      const utc = (await received.getAttribute('datetime'))!;
      // Tokyo is UTC+9 all year: the expected text is computed here, not read from the page.
      const tokyo = new Date(Date.parse(utc) + 9 * 3_600_000);
      const two = (n: number) => String(n).padStart(2, '0');
      const day = `${tokyo.getUTCDate()} ${tokyo.toLocaleString('en-GB', { month: 'short', timeZone: 'UTC' })} ${tokyo.getUTCFullYear()}`;
      const time = `${two(tokyo.getUTCHours())}:${two(tokyo.getUTCMinutes())}:${two(tokyo.getUTCSeconds())}`;
      expect(await received.textContent()).toBe(`${day}, ${time}`);
      expect(await received.getAttribute('title')).toMatch(/ UTC$/);
      expect(blocked).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
