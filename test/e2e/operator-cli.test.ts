import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { LocalRuntime } from '../../lib/local/runtime';
import { apiClient, startTestRuntime } from '../support/local-runtime';

const run = promisify(execFile);
let runtime: LocalRuntime;

beforeAll(async () => {
  // No authorizer cache, so a revoked key is refused on the very next call.
  runtime = await startTestRuntime('cli', { authorizerCacheTtlSeconds: 0 });
});

afterAll(() => runtime?.stop());

/**
 * Runs the CLI with `--local`, finding the runtime through PORT: through `npx herald` as an
 * operator would, or straight through its bin script where the npx start-up only costs time.
 */
async function herald(...args: string[]): Promise<string> {
  return heraldVia('node', ...args);
}

async function heraldVia(how: 'npx' | 'node', ...args: string[]): Promise<string> {
  const [command, prefix] = how === 'npx' ? ['npx', ['herald']] : [process.execPath, ['bin/herald.cjs']];
  const { stdout } = await run(command as string, [...(prefix as string[]), ...args, '--local'], {
    cwd: process.cwd(),
    env: { ...process.env, PORT: String(runtime.port) },
    timeout: 30_000,
  });
  return stdout;
}

describe('npx herald against the local runtime', () => {
  let merchantId: string;
  let apiKey: string;

  it('creates a merchant and prints an API key that works with the API', async () => {
    const output = await heraldVia('npx', 'merchants', 'create', '--name', 'Acme Payments', '--email', 'ops@acme.example');
    merchantId = /merchant id\s+(mer_[0-9a-z]+)/.exec(output)![1]!;
    apiKey = /API key\s+(hrld_[A-Za-z0-9_-]{43})\b/.exec(output)![1]!;
    expect(output).toContain('shown only now');

    // The README's curl commands, as fetch calls.
    const api = apiClient(runtime, apiKey);
    const submitted = await api('POST', '/v1/requests', {
      body: { type: 'demo.sleep', payload: { ms: 10 } },
      headers: { 'idempotency-key': 'order-1001' },
    });
    expect(submitted.status).toBe(202);
    const polled = await api('GET', submitted.headers.get('location')!);
    expect(polled.status).toBe(200);
    expect(polled.body!.id).toBe(submitted.body!.id);
    // The new merchant's request is invisible to the demo merchant.
    expect((await apiClient(runtime)('GET', submitted.headers.get('location')!)).status).toBe(404);

    const shown = await herald('requests', 'show', submitted.body!.id);
    expect(shown).toContain(submitted.body!.id);
    expect(shown).toMatch(new RegExp(`merchant\\s+${merchantId}`));
    expect(shown).toMatch(/key\s+order-1001/);
  });

  it('creates, lists and revokes keys; a revoked key is refused', async () => {
    const created = JSON.parse(await herald('keys', 'create', '--merchant', merchantId, '--json'));
    expect(created.apiKey).toMatch(/^hrld_/);
    const second = apiClient(runtime, created.apiKey);
    expect((await second('GET', '/v1/requests')).status).toBe(200);

    const listed = JSON.parse(await herald('keys', 'list', '--merchant', merchantId, '--json'));
    expect(listed).toHaveLength(2);
    expect(JSON.stringify(listed)).not.toContain(created.apiKey);
    expect(listed[0]).not.toHaveProperty('keyHash');

    const revoked = await herald('keys', 'revoke', created.keyId, '--merchant', merchantId);
    expect(revoked).toContain(`Revoked ${created.keyId}`);
    const refused = await second('GET', '/v1/requests');
    expect(refused.status).toBe(401);
    expect((await apiClient(runtime, apiKey)('GET', '/v1/requests')).status).toBe(200);
  });

  it('works on a table named outright, through the standard SDK configuration (as on AWS with --table)', async () => {
    const env = {
      ...process.env,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: runtime.endpoints.dynamodb,
    };
    const table = runtime.resources.tableName;
    const { stdout } = await run(process.execPath, ['bin/herald.cjs', 'merchants', 'create', '--name', 'Table Co', '--json', '--table', table], { env, timeout: 30_000 });
    const created = JSON.parse(stdout);
    expect((await apiClient(runtime, created.apiKey)('GET', '/v1/requests')).status).toBe(200);

    const shown = await run(process.execPath, ['bin/herald.cjs', 'merchants', 'show', created.merchantId, '--table', table], { env, timeout: 30_000 });
    expect(shown.stdout).toContain('Table Co');
    expect(shown.stdout).toContain(created.keyId);
    expect(shown.stdout).not.toContain(created.apiKey);
  });

  it('explains a missing target and an unreachable runtime', async () => {
    await expect(run('npx', ['herald', 'merchants', 'create', '--name', 'X'], { timeout: 30_000 })).rejects.toMatchObject({
      stderr: expect.stringContaining('--local'),
    });
    await expect(
      run(process.execPath, ['bin/herald.cjs', 'merchants', 'create', '--name', 'X', '--local', '--port', '1'], { timeout: 30_000 }),
    ).rejects.toMatchObject({ stderr: expect.stringContaining('No local runtime answers') });
  });
});
