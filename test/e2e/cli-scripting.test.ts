import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runHerald } from '../../lib/cli/main';
import type { LocalRuntime } from '../../lib/local/runtime';
import { apiClient, eventually, startTestRuntime } from '../support/local-runtime';

const execFileAsync = promisify(execFile);
let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startTestRuntime('cliscript');
});

afterAll(() => runtime?.stop());

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a `herald` command line in this process (the CLI's own entry point, minus the process
 * start-up each spawn would cost), with stdout and stderr captured as a pipe would see them.
 */
async function herald(...args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const log = jest.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void (stdout += `${parts.join(' ')}\n`));
  const error = jest.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => void (stderr += `${parts.join(' ')}\n`));
  const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  try {
    const code = await runHerald([...args, ...(args.includes('--local') ? [`--port=${runtime.port}`] : [])]);
    return { code, stdout, stderr };
  } finally {
    log.mockRestore();
    error.mockRestore();
    write.mockRestore();
  }
}

/** The same through the installed bin script, as a shell runs it, for what only a real process shows: its exit status. */
async function heraldProcess(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, ['bin/herald.cjs', ...args], {
      env: { ...process.env, PORT: String(runtime.port) },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const parsed = (run: Run) => JSON.parse(run.stdout) as Record<string, any>;

describe('herald --json for scripts', () => {
  it('prints one JSON document and nothing else for every command', async () => {
    const merchant = await herald('merchants', 'create', '--name', 'Script Co', '--json', '--local');
    expect(merchant.code).toBe(0);
    const { merchantId, apiKey } = parsed(merchant);
    const submitted = await apiClient(runtime, apiKey)('POST', '/v1/requests', {
      body: { type: 'demo.sleep', payload: { ms: 1 } },
      headers: { 'idempotency-key': 'script-1' },
    });

    const runs: Record<string, Run> = {
      'merchants show': await herald('merchants', 'show', merchantId, '--json', '--local'),
      'keys create': await herald('keys', 'create', '--merchant', merchantId, '--json', '--local'),
      'keys list': await herald('keys', 'list', '--merchant', merchantId, '--json', '--local'),
      'requests show': await herald('requests', 'show', submitted.body!.id, '--json', '--local'),
      queues: await herald('queues', '--json', '--local'),
      'redrive --dry-run': await herald('redrive', 'requests', '--dry-run', '--json', '--local'),
      redrive: await herald('redrive', 'deliveries', '--json', '--local'),
      'wallets credit': await herald('wallets', 'credit', 'wal_script', '500', '--json', '--local'),
      'wallets show': await herald('wallets', 'show', 'wal_script', '--json', '--local'),
    };
    const keyId = parsed(runs['keys create']!).keyId as string;
    runs['keys revoke'] = await herald('keys', 'revoke', keyId, '--merchant', merchantId, '--json', '--local');

    for (const [command, run] of Object.entries(runs)) {
      expect({ command, code: run.code }).toEqual({ command, code: 0 });
      expect(() => JSON.parse(run.stdout)).not.toThrow();
    }
    expect(parsed(runs['requests show']!).id).toBe(submitted.body!.id);
    expect(parsed(runs.queues!)).toEqual(expect.arrayContaining([expect.objectContaining({ queue: 'requests', deadLetters: expect.any(Number) })]));
    // Only the requests queue has a slow lane (lib/topology.ts), and an operator sees its depth too.
    expect(parsed(runs.queues!)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ queue: 'requests', slowLane: expect.any(Number) }),
        expect.not.objectContaining({ queue: 'deliveries', slowLane: expect.anything() }),
      ]),
    );
    expect(parsed(runs['wallets show']!).balanceCents).toBe(500);
    expect(parsed(runs.redrive!)).toMatchObject({ queue: 'deliveries', mode: 'batches', moved: 0 });
  });

  it('answers --help for every command, as {"usage"} under --json', async () => {
    const text = await herald('--help');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Usage: herald <command>/);
    for (const command of ['merchants', 'keys', 'requests', 'tail', 'queues', 'redrive', 'wallets']) {
      const json = await herald(command, '--help', '--json');
      expect(json.code).toBe(0);
      expect(parsed(json).usage).toMatch(new RegExp(`herald ${command}`));
      expect(parsed(json).usage).toContain('Exit codes: 0 ok, 1 failed, 2 usage');
    }
  });

  it('exits 2 on a usage mistake and 1 when the command fails, with stdout left empty', async () => {
    const usage = await heraldProcess('redrive', 'no-such-queue', '--json', '--local');
    expect(usage.code).toBe(2);
    expect(usage.stdout).toBe('');
    expect(JSON.parse(usage.stderr).error.kind).toBe('usage');

    expect((await herald('no-such-command')).code).toBe(2);
    expect((await herald('merchants', 'create', '--name', 'X', '--bogus')).code).toBe(2);

    const failed = await heraldProcess('requests', 'show', 'req_does_not_exist', '--json', '--local');
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('');
    expect(JSON.parse(failed.stderr).error).toMatchObject({ kind: 'failed', message: expect.stringContaining('req_does_not_exist') });
  });

  it('draws no progress bar when its output is piped', async () => {
    const run = await heraldProcess('redrive', 'requests', '--local');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Moved 0 of 0 message/);
    expect(run.stderr).not.toContain('[');
  });

  it('follows a request through its transitions with tail, one JSON object per line', async () => {
    const tailing = herald('tail', '--merchant', runtime.merchantId, '--json', '--interval', '0.2', '--duration', '6', '--local');
    // Tail reports only what happens after it starts following: give it its first round.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const submitted = await apiClient(runtime)('POST', '/v1/requests', {
      body: { type: 'demo.sleep', payload: { ms: 300 } },
      headers: { 'idempotency-key': 'tail-1' },
    });
    const id = submitted.body!.id as string;
    await eventually(async () => ((await apiClient(runtime)('GET', `/v1/requests/${id}`)).body?.status === 'succeeded' ? true : undefined));
    const tail = await tailing;

    expect(tail.code).toBe(0);
    const lines = tail.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.requestId === id);
    expect(lines.map((line) => line.to)).toEqual(['accepted', 'processing', 'succeeded']);
    expect(lines.every((line) => line.kind === 'transition' && line.merchantId === runtime.merchantId)).toBe(true);
  });
});

describe('what a merchant wrote, on the operator\'s terminal', () => {
  // A window title (OSC 0), a screen clear (CSI 2J), a clipboard write (OSC 52), an 8-bit CSI (C1), a DEL and a line of its own.
  const HOSTILE = 'x\u001b]0;owned\u0007\u001b[2J\u001b]52;c;ZXZpbA==\u0007\u009b31m\u007f\r\nFORGED';
  const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
  let requestId: string;

  /** A saga whose check step, named by the merchant, refuses: the name lands in a step and in a reason. */
  async function hostileSaga(key: string): Promise<string> {
    const submitted = await apiClient(runtime)('POST', '/v1/requests', {
      body: {
        type: 'wallet.debit',
        payload: { walletId: 'w-term', amountCents: 10, steps: [{ kind: 'credit', walletId: 'w-term-shop', amountCents: 10 }, { kind: 'check', name: HOSTILE, outcome: 'refuse' }] },
      },
      headers: { 'idempotency-key': key },
    });
    expect(submitted.status).toBe(202);
    const id = submitted.body!.id as string;
    await eventually(async () => ((await apiClient(runtime)('GET', `/v1/requests/${id}`)).body?.status === 'failed' ? true : undefined));
    return id;
  }

  beforeAll(async () => {
    expect((await herald('wallets', 'credit', 'w-term', '100', '--merchant', runtime.merchantId, '--local')).code).toBe(0);
    requestId = await hostileSaga('terminal-1');
  });

  it('requests show prints its step names and reasons without a control character, each on its own line', async () => {
    const shown = await herald('requests', 'show', requestId, '--local');
    expect(shown.code).toBe(0);
    expect(shown.stdout).not.toMatch(CONTROL);
    expect(shown.stdout).toContain('step check x]0;owned[2J]52;c;ZXZpbA==31mFORGED');
    expect(shown.stdout.split('\n').some((line) => line.startsWith('FORGED'))).toBe(false);
  });

  it('requests show --json keeps the text as written, escaped so that no terminal reads it', async () => {
    const shown = await herald('requests', 'show', requestId, '--json', '--local');
    expect(shown.stdout).not.toMatch(CONTROL);
    const steps = (parsed(shown).history as { step?: string }[]).map((row) => row.step);
    expect(steps).toContain(`check ${HOSTILE}`);
  });

  it('tail prints them without a control character, in text and in JSON', async () => {
    // One tail at a time: each captures this process's console while it runs.
    const tailWhile = async (json: boolean, key: string) => {
      const tailing = herald('tail', '--merchant', runtime.merchantId, ...(json ? ['--json'] : []), '--interval', '0.2', '--duration', '4', '--local');
      await new Promise((resolve) => setTimeout(resolve, 500));
      const id = await hostileSaga(key);
      return { id, run: await tailing };
    };
    const { id, run: lines } = await tailWhile(false, 'terminal-2');
    const { id: jsonId, run: objects } = await tailWhile(true, 'terminal-3');

    expect(lines.stdout).toContain(`${id}  wallet.debit  step check x]0;owned[2J]52;c;ZXZpbA==31mFORGED`);
    expect(lines.stdout).not.toMatch(CONTROL);
    expect(lines.stdout.split('\n').some((line) => line.startsWith('FORGED'))).toBe(false);
    expect(objects.stdout).not.toMatch(CONTROL);
    const ofRequest = objects.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { requestId: string; step?: string });
    expect(ofRequest.filter((line) => line.requestId === jsonId).map((line) => line.step)).toContain(`check ${HOSTILE}`);
  });
});
