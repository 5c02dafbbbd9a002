import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { parse } from 'yaml';
import { dynamoClient } from '../../lambdas/adapters/aws-clients';
import { DynamoMerchantStore } from '../../lambdas/adapters/dynamo-merchant-store';
import { createHeraldClient, type HeraldClient } from '../../lib/client/herald-client';
import { restartablePort } from '../../lib/local/free-port';
import type { LocalRuntime } from '../../lib/local/runtime';
import { eventually, startTestRuntime } from '../support/local-runtime';

/**
 * docs/receiving-webhooks.md's Node receiver, taken from the page as written, run as its own
 * process against real deliveries of the local runtime, driven through the typed client that
 * docs/openapi.yaml generates; every event it receives must match the description's `webhooks`.
 */
const PROJECT = resolve(__dirname, '..', '..');
const doc = readFileSync(join(PROJECT, 'docs', 'receiving-webhooks.md'), 'utf8');
const description = parse(readFileSync(join(PROJECT, 'docs', 'openapi.yaml'), 'utf8')) as { webhooks: Record<string, unknown> };

function nodeExample(): string {
  const section = doc.slice(doc.indexOf('## Node.js'), doc.indexOf('## Python'));
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (!code) throw new Error('docs/receiving-webhooks.md has no js block under "## Node.js"');
  return code;
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(description, 'openapi');

function expectDescribedEvent(event: { type: string }): void {
  const validate = ajv.getSchema(`openapi#/webhooks/${event.type.replace(/\//g, '~1')}/post/requestBody/content/application~1json/schema`);
  if (!validate) throw new Error(`docs/openapi.yaml describes no webhook ${event.type}`);
  if (!validate(event)) throw new Error(`${event.type} does not match docs/openapi.yaml: ${ajv.errorsText(validate.errors)}`);
}

let runtime: LocalRuntime;
let herald: HeraldClient;
let receiver: ChildProcess;
let receiverUrl: string;
let secret: string;
let scratch: string;
const lines: Record<string, any>[] = [];

beforeAll(async () => {
  runtime = await startTestRuntime('receiverkit');
  const merchants = new DynamoMerchantStore(dynamoClient(), runtime.resources.tableName);
  const merchant = await merchants.createMerchant({ name: 'Receiver Co' });
  herald = createHeraldClient({ baseUrl: runtime.url, apiKey: (await merchants.createApiKey(merchant.id)).key });

  const port = await restartablePort();
  receiverUrl = `http://127.0.0.1:${port}/herald`;
  const registered = await herald.POST('/v1/webhooks', { body: { url: receiverUrl } });
  expect(registered.response.status).toBe(201);
  // A v1 endpoint answers its secret; the schema's anyOf (secret or publicKey) leaves it untyped.
  secret = (registered.data as { secret?: string } | undefined)!.secret!;

  scratch = mkdtempSync(join(tmpdir(), 'herald-receiver-'));
  writeFileSync(join(scratch, 'receiver.js'), nodeExample());
  receiver = spawn(process.execPath, [join(scratch, 'receiver.js')], {
    // As after `npm install standardwebhooks` next to the file.
    env: { ...process.env, NODE_PATH: join(PROJECT, 'node_modules'), HERALD_WEBHOOK_SECRET: secret, PORT: String(port) },
  });
  let pending = '';
  receiver.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const complete = pending.split('\n');
    pending = complete.pop()!;
    for (const line of complete.filter(Boolean)) lines.push(JSON.parse(line));
  });
  await eventually(async () => (lines.some((line) => line.listening === port) ? true : undefined));
});

afterAll(async () => {
  receiver?.kill();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  await runtime?.stop();
});

const handledLines = (webhookId: string) => lines.filter((line) => line.webhookId === webhookId);

describe("docs/receiving-webhooks.md's Node receiver", () => {
  let succeededId: string;

  it('verifies and handles a real request.succeeded delivery, which matches the described event', async () => {
    const submitted = await herald.POST('/v1/requests', {
      params: { header: { 'Idempotency-Key': 'kit-ok' } },
      body: { type: 'demo.sleep', payload: { ms: 10 } },
    });
    expect(submitted.response.status).toBe(202);
    const requestId = submitted.data!.id;
    const line = await eventually(async () => lines.find((l) => l.event?.type === 'request.succeeded' && l.event.data.id === requestId));
    succeededId = line.webhookId;
    expect(succeededId).toBe(`dlv_${requestId}.${/ep_[0-9a-z]{26}/.exec(JSON.stringify((await herald.GET('/v1/webhooks')).data))![0]}.succeeded`);
    expectDescribedEvent(line.event);
  });

  it('verifies and handles a request.failed delivery, which matches the described event', async () => {
    const submitted = await herald.POST('/v1/requests', {
      params: { header: { 'Idempotency-Key': 'kit-fail' } },
      body: { type: 'demo.fail', payload: { message: 'no stock' } },
    });
    const requestId = submitted.data!.id;
    const line = await eventually(async () => lines.find((l) => l.event?.type === 'request.failed' && l.event.data.id === requestId), 40_000);
    expect(line.event.data.error).toMatchObject({ code: 'demo_failure', retryable: true });
    expectDescribedEvent(line.event);
  });

  it('acknowledges a delivery sent again with the same webhook-id without handling it twice', async () => {
    const retried = await herald.POST('/v1/deliveries/{id}/retry', { params: { path: { id: succeededId } } });
    expect(retried.response.status).toBe(202);
    await eventually(async () => (lines.some((line) => line.duplicate === succeededId) ? true : undefined));
    expect(handledLines(succeededId)).toHaveLength(1);
  });

  it('refuses a body whose signature does not verify, and one signed too long ago', async () => {
    const body = JSON.stringify({ type: 'request.succeeded', timestamp: new Date().toISOString(), data: { id: 'req_forged' } });
    const now = new Date();
    const forged = await fetch(receiverUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': 'dlv_forged', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': 'v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' },
      body,
    });
    expect(forged.status).toBe(400);

    const tenMinutesAgo = new Date(now.getTime() - 10 * 60_000);
    const stale = await fetch(receiverUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': 'dlv_stale',
        'webhook-timestamp': String(Math.floor(tenMinutesAgo.getTime() / 1000)),
        'webhook-signature': new Webhook(secret).sign('dlv_stale', tenMinutesAgo, body),
      },
      body,
    });
    expect(stale.status).toBe(400);
    expect(handledLines('dlv_forged')).toEqual([]);
    expect(handledLines('dlv_stale')).toEqual([]);
  });
});

describe('the typed client', () => {
  it('is generated from docs/openapi.yaml as committed', async () => {
    const generated = join(scratch, 'schema.d.ts');
    // The npm script's own arguments, writing elsewhere.
    const script = (JSON.parse(readFileSync(join(PROJECT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['client:generate']!;
    const [command, ...args] = script.replace('lib/client/schema.d.ts', generated).split(' ');
    expect(command).toBe('openapi-typescript');
    await new Promise<void>((done, fail) => {
      const child = spawn(process.execPath, [join(PROJECT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js'), ...args], {
        cwd: PROJECT,
        stdio: 'ignore',
      });
      child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`openapi-typescript exited ${code}`))));
    });
    expect(readFileSync(join(PROJECT, 'lib', 'client', 'schema.d.ts'), 'utf8')).toBe(readFileSync(generated, 'utf8'));
  });
});
