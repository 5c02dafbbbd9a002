import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { dynamoClient } from '../../lambdas/adapters/aws-clients';
import { DynamoMerchantStore } from '../../lambdas/adapters/dynamo-merchant-store';
import type { LocalRuntime } from '../../lib/local/runtime';
import { apiClient, eventually, startTestRuntime } from '../support/local-runtime';

const execFileAsync = promisify(execFile);
let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startTestRuntime('firstrun');
});

afterAll(() => runtime?.stop());

/** The environment a new user's shell has: none of the test setup's SDK switches. */
function userEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(runtime.port) };
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  return env;
}

/** Runs the CLI as `npm run herald -- …` would (npm adds nothing but its header lines), exit code included. */
async function herald(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, ['bin/herald.cjs', ...args], { env: userEnvironment(), timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('the CLI on a first run', () => {
  it('is an npm script that runs the local bin, never a package looked up by name', () => {
    const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    expect(manifest.scripts.herald).toBe('node bin/herald.cjs');
  });

  it('prints its version', async () => {
    const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const run = await herald('--version');
    expect(run).toMatchObject({ code: 0, stdout: `herald ${manifest.version}\n` });
  });

  it('names an unknown command and suggests the nearest one, exiting 2', async () => {
    const run = await herald('tial', '--local');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Unknown command "tial". Did you mean "tail"?');
    expect(run.stdout).toBe('');
  });

  it('names an unknown option and suggests the nearest one, without the parser\'s own wording', async () => {
    const run = await herald('tail', '--mercant', 'mer_x', '--local');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Unknown option "--mercant". Did you mean "--merchant"?');
    expect(run.stderr).not.toContain('positional argument');
  });

  it('prints no AWS SDK Node version warning when it calls AWS APIs', async () => {
    const run = await herald('queues', '--local');
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('NodeVersionSupportWarning');
  });
});

describe('herald tail on the local runtime', () => {
  it("prints a request that ends within milliseconds, of a merchant it was not told about", async () => {
    const tail = spawn(process.execPath, ['bin/herald.cjs', 'tail', '--json', '--interval', '0.2', '--duration', '8', '--local'], {
      env: userEnvironment(),
    });
    let stdout = '';
    let stderr = '';
    tail.stdout.on('data', (chunk) => (stdout += chunk));
    tail.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => tail.once('exit', resolve));
    // Tail reports what happens after it starts: wait for its banner.
    await eventually(async () => (stderr.includes('Following') ? true : undefined));
    expect(stderr).toContain('every merchant');

    const merchants = new DynamoMerchantStore(dynamoClient(), runtime.resources.tableName);
    const merchant = await merchants.createMerchant({ name: 'Quick Co' });
    const { key } = await merchants.createApiKey(merchant.id);
    const api = apiClient(runtime, key);
    const submitted = await api('POST', '/v1/requests', { body: { type: 'demo.sleep', payload: { ms: 0 } }, headers: { 'idempotency-key': 'quick-1' } });
    const id = submitted.body!.id as string;
    await eventually(async () => ((await api('GET', `/v1/requests/${id}`)).body?.status === 'succeeded' ? true : undefined));

    expect(await exited).toBe(0);
    const lines = stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.requestId === id);
    expect(lines.map((line) => line.to)).toEqual(['accepted', 'processing', 'succeeded']);
    expect(lines.every((line) => line.merchantId === merchant.id)).toBe(true);
  });
});

describe('showing cancel locally', () => {
  it('holds a request with notBefore in accepted, so it can be cancelled before a worker starts it', async () => {
    const api = apiClient(runtime);
    const notBefore = new Date(Date.now() + 60_000).toISOString();
    const submitted = await api('POST', '/v1/requests', {
      body: { type: 'demo.sleep', payload: { ms: 0 }, notBefore },
      headers: { 'idempotency-key': `later-${notBefore}` },
    });
    expect(submitted.status).toBe(202);
    // Long enough for a worker to have claimed an undelayed request many times over.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await api('GET', `/v1/requests/${submitted.body!.id}`)).body).toMatchObject({ status: 'accepted', attempts: 0 });

    const cancelled = await api('POST', `/v1/requests/${submitted.body!.id}/cancel`);
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled' } });
  });
});
