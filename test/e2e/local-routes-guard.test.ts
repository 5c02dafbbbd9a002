import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import type { OutboxMessage } from '../../lib/local/outbox';
import type { LocalRuntime } from '../../lib/local/runtime';
import { launchBrowser } from '../support/browser';
import { eventually, startTestRuntime } from '../support/local-runtime';

/**
 * The console and the `/local/*` routes, as a web page in the developer's browser would try
 * them (issue 19, finding 2): under a rebound DNS name (foreign `Host`), and cross-site (a foreign
 * or missing `Origin`). Requests go out through node:http, which, unlike fetch, sends the `Host`
 * it is given.
 */
let runtime: LocalRuntime;
let sqs: SQSClient;

beforeAll(async () => {
  // No consumers: a dead letter put here stays where it is until a redrive moves it.
  runtime = await startTestRuntime('guard', { consumers: false });
  sqs = new SQSClient({ endpoint: runtime.endpoints.sqs });
}, 120_000);

afterAll(async () => {
  await runtime?.stop();
  sqs?.destroy();
});

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  json(): any;
}

function send(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: runtime.port, method, path, headers: { host: `127.0.0.1:${runtime.port}`, ...headers } },
      (res) => {
        // An event stream never ends by itself: its status and headers are all a test needs.
        if (String(res.headers['content-type']).startsWith('text/event-stream')) {
          res.destroy();
          return resolve({ status: res.statusCode!, contentType: String(res.headers['content-type']), text: '', json: () => undefined });
        }
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode!, contentType: String(res.headers['content-type'] ?? ''), text, json: () => JSON.parse(text) });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const ownOrigin = () => `http://127.0.0.1:${runtime.port}`;

async function consoleToken(): Promise<string> {
  const page = await send('GET', '/');
  const token = /<meta name="herald-console-token" content="([^"]+)">/.exec(page.text)?.[1];
  if (!token) throw new Error('The console page carries no token');
  return token;
}

async function outbox(): Promise<OutboxMessage[]> {
  return ((await send('GET', '/local/outbox')).json() as { messages: OutboxMessage[] }).messages;
}

async function deadLetters(): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: runtime.resources.queues.requests.deadLetterUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(Attributes!.ApproximateNumberOfMessages);
}

const forgedSms = JSON.stringify({ to: '+15555550100', text: 'Your code is 123456' });

describe('the Host a console or /local/ request names', () => {
  const guardedRoutes: [string, string][] = [
    ['GET', '/'],
    ['GET', '/local/console/console.js'],
    ['GET', '/local/console/stream'],
    ['GET', '/local/console/requests/req_anything'],
    ['GET', '/local/outbox'],
    ['GET', '/local/endpoints'],
    ['POST', '/local/console/redrive/requests'],
    ['POST', '/local/outbox/sms'],
  ];

  it.each(guardedRoutes)('answers %s %s under a rebound name with 421, even from that name\'s own origin', async (method, path) => {
    const rebound = `rebind.attacker.example:${runtime.port}`;
    const answer = await send(method, path, { host: rebound, origin: `http://${rebound}`, 'content-type': 'text/plain' }, method === 'POST' ? forgedSms : undefined);
    expect(answer.status).toBe(421);
    expect(answer.contentType).toBe('application/problem+json');
    expect(answer.json()).toMatchObject({ type: 'https://herald.dev/problems/misdirected-request', status: 421 });
    expect(answer.json().detail).toContain(`127.0.0.1:${runtime.port}`);
  });

  it.each([
    ['another port of this machine', () => `127.0.0.1:${runtime.port + 1}`],
    ['no port', () => '127.0.0.1'],
    ['another loopback address', () => `127.0.0.2:${runtime.port}`],
    ['a name that merely starts like localhost', () => `localhost.attacker.example:${runtime.port}`],
  ])('answers 421 to %s', async (_, host) => {
    expect((await send('GET', '/local/outbox', { host: host() })).status).toBe(421);
  });

  it('serves the console under the loopback name the runtime printed, and under localhost', async () => {
    expect(runtime.url).toBe(`http://127.0.0.1:${runtime.port}`);
    const printed = await send('GET', '/');
    expect(printed.status).toBe(200);
    expect(printed.text).toContain('<title>Herald — local console</title>');
    expect((await send('GET', '/', { host: `localhost:${runtime.port}` })).status).toBe(200);
    expect((await send('GET', '/local/endpoints', { host: `LOCALHOST:${runtime.port}` })).status).toBe(200);
  });

  it('leaves the API routes to the API key: a foreign Host changes nothing there', async () => {
    const answer = await send('GET', '/v1/requests', { host: `api.example:${runtime.port}`, authorization: `Bearer ${runtime.apiKey}` });
    expect(answer.status).toBe(200);
  });
});

describe('a request that changes something', () => {
  it('is refused with 403 when a cross-site page posts text/plain to the SMS outbox, and nothing is recorded', async () => {
    const answer = await send('POST', '/local/outbox/sms', { origin: 'http://attacker.example', 'content-type': 'text/plain' }, forgedSms);
    expect(answer.status).toBe(403);
    expect(answer.contentType).toBe('application/problem+json');
    expect(answer.json()).toMatchObject({ type: 'https://herald.dev/problems/cross-site-request', status: 403 });
    expect(answer.json().detail).toContain('attacker.example');
    expect(await outbox()).toEqual([]);
  });

  it.each([
    ['no Origin and no token', {}],
    ['an opaque origin (a sandboxed frame, a file)', { origin: 'null' }],
    ['the origin of another port of this machine', { origin: 'http://127.0.0.1:1' }],
    ['https instead of http', { origin: 'https://127.0.0.1:PORT' }],
    ['a token that is not this run\'s', { 'x-herald-console-token': 'A'.repeat(43) }],
  ])('is refused with 403 when it carries %s', async (_, headers) => {
    const withPort = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, value.replace('PORT', String(runtime.port))]));
    const answer = await send('POST', '/local/outbox/sms', { 'content-type': 'application/json', ...withPort }, forgedSms);
    expect(answer.status).toBe(403);
    expect(await outbox()).toEqual([]);
  });

  it('does not run a cross-site redrive: the dead letter stays, and the console\'s own redrive then moves it', async () => {
    await sqs.send(
      new SendMessageCommand({ QueueUrl: runtime.resources.queues.requests.deadLetterUrl, MessageBody: JSON.stringify({ requestId: 'req_dead_letter' }) }),
    );
    expect(await deadLetters()).toBe(1);

    const crossSite = await send('POST', '/local/console/redrive/requests', { origin: 'http://attacker.example', 'content-type': 'text/plain' }, 'x');
    expect(crossSite.status).toBe(403);
    expect(await deadLetters()).toBe(1);

    const fromThePage = await send('POST', '/local/console/redrive/requests', { 'x-herald-console-token': await consoleToken() });
    expect(fromThePage.status).toBe(200);
    // The first generation: the refused request never began one.
    expect(fromThePage.json()).toMatchObject({ queue: 'requests', moved: 1, generation: 1 });
    expect(await deadLetters()).toBe(0);
  });

  it('is served when it carries the console\'s own Origin (as the notifier\'s SMS sender sends it)', async () => {
    const answer = await send('POST', '/local/outbox/sms', { origin: ownOrigin(), 'content-type': 'application/json' }, forgedSms);
    expect(answer.status).toBe(202);
    expect((await outbox()).map((message) => message.text)).toEqual(['Your code is 123456']);
  });
});

describe('a console path segment the console cannot use', () => {
  // Sent with the console's own Origin, so that the guard lets them through to the routes.
  it.each([
    ['GET', '/local/console/requests/%ff'],
    ['GET', '/local/console/requests/%E0%A4%A'],
    ['POST', '/local/console/redrive/__proto__'],
    ['POST', '/local/console/redrive/toString'],
    ['POST', '/local/console/redrive/constructor'],
    ['POST', '/local/console/redrive/hasOwnProperty'],
    ['POST', '/local/console/redrive/%ff'],
    ['POST', '/local/console/deliveries/%ff/retry'],
    ['POST', '/local/console/webhooks/%E0%A4%A/recover'],
  ])('answers %s %s with a 404 problem, never a 500', async (method, path) => {
    const answer = await send(method, path, { origin: ownOrigin() });
    expect(answer.status).toBe(404);
    expect(answer.contentType).toBe('application/problem+json');
    expect(answer.json()).toMatchObject({ type: 'https://herald.dev/problems/not-found', status: 404 });
  });

  it('still names a real queue: redriving deliveries answers 200', async () => {
    const answer = await send('POST', '/local/console/redrive/deliveries', { origin: ownOrigin() });
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({ queue: 'deliveries' });
  });
});

describe('in a real browser (Chromium)', () => {
  let browser: Browser;
  let attacker: Server;
  let attackerUrl: string;

  beforeAll(async () => {
    // rebind.test resolves to this machine, as an attacker's name does after DNS rebinding.
    browser = await launchBrowser(['--host-resolver-rules=MAP rebind.test 127.0.0.1']);
    // Another origin on this machine (another port): a page the developer happens to open.
    attacker = createServer((_, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><title>cat pictures</title>
        <iframe name="sink"></iframe>
        <form id="redrive" method="POST" target="sink" enctype="text/plain" action="${runtime.url}/local/console/redrive/requests">
          <input name="x" value="y"></form>
        <script>
          fetch(${JSON.stringify(`${runtime.url}/local/outbox/sms`)}, {
            method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' },
            body: JSON.stringify({ to: '+15555550100', text: 'sent by a web page' }),
          }).finally(() => { document.title = 'posted'; });
        </script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => attacker?.close(resolve));
  });

  it('refuses a foreign page\'s text/plain fetch and form POST with 403, and records nothing', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(attackerUrl);
      await page.waitForFunction('document.title === "posted"');
      await page.evaluate('document.getElementById("redrive").submit()');
      const sink = page.frame({ name: 'sink' })!;
      await eventually(async () => ((await sink.content()).includes('cross-site-request') ? true : undefined), 20_000);
      expect(await sink.content()).toContain('"status":403');
      expect((await outbox()).map((message) => message.text)).not.toContain('sent by a web page');
    } finally {
      await page.close();
    }
  });

  it('answers 421 to a page under a rebound name, to its own reads as well', async () => {
    const page = await browser.newPage();
    try {
      const answer = await page.goto(`http://rebind.test:${runtime.port}/`);
      expect(answer!.status()).toBe(421);
      // Same-origin in the browser's eyes, so it could read the answer: there is nothing to read.
      const read = (await page.evaluate(`fetch('/local/outbox').then((r) => r.status)`)) as number;
      expect(read).toBe(421);
    } finally {
      await page.close();
    }
  });
});

describe('the console token', () => {
  // Last: a second runtime in this process points the handlers' environment at its own resources.
  it('gets a new token from every run, embedded in its page', async () => {
    const token = await consoleToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const other = await startTestRuntime('guard-other', { consumers: false, schedules: false });
    try {
      const otherPage = await fetch(`${other.url}/`).then((response) => response.text());
      expect(otherPage).toContain('name="herald-console-token"');
      expect(otherPage).not.toContain(token);
    } finally {
      await other.stop();
    }
  });
});
