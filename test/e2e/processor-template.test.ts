import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const PROJECT = resolve(__dirname, '..', '..');

/**
 * A scratch checkout: the real core, test support and dependencies linked in, the processors
 * folder copied (the command edits its registry), so the generator writes nothing into this one.
 */
function scratchCheckout(): string {
  const root = mkdtempSync(join(tmpdir(), 'herald-processor-'));
  mkdirSync(join(root, 'lambdas', 'processors'), { recursive: true });
  mkdirSync(join(root, 'test'), { recursive: true });
  symlinkSync(join(PROJECT, 'lambdas', 'core'), join(root, 'lambdas', 'core'));
  symlinkSync(join(PROJECT, 'test', 'support'), join(root, 'test', 'support'));
  symlinkSync(join(PROJECT, 'node_modules'), join(root, 'node_modules'));
  for (const file of readdirSync(join(PROJECT, 'lambdas', 'processors'))) {
    copyFileSync(join(PROJECT, 'lambdas', 'processors', file), join(root, 'lambdas', 'processors', file));
  }
  return root;
}

/** Runs `herald processors new` as an operator would, in the scratch checkout. */
function heraldProcessorsNew(root: string, type: string): string {
  return execFileSync(process.execPath, [join(PROJECT, 'bin', 'herald.cjs'), 'processors', 'new', type, '--root', root, '--json'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
}

// Generated while jest collects tests, so that the generated test file registers its own tests
// below and runs in this process, as `npm test` would run it in a real checkout.
const root = scratchCheckout();
const created = JSON.parse(heraldProcessorsNew(root, 'invoice.render')) as Record<string, unknown>;

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('herald processors new', () => {
  it('writes the processor and its test and lists it in the registry', () => {
    expect(created).toEqual({
      type: 'invoice.render',
      exportName: 'invoiceRender',
      files: ['lambdas/processors/invoice-render.ts', 'test/unit/processors/invoice-render.test.ts'],
      registry: 'lambdas/processors/registry.ts',
    });
    expect(readFileSync(join(root, 'lambdas', 'processors', 'registry.ts'), 'utf8')).toMatch(/\[orderProcess, walletDebit, invoiceRender\]/);
  });

  it('refuses to overwrite what it made before, exiting 1', async () => {
    const again = execFileAsync(process.execPath, [join(PROJECT, 'bin', 'herald.cjs'), 'processors', 'new', 'invoice.render', '--root', root], { timeout: 60_000 });
    await expect(again).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('already lists invoiceRender') });
  });

  it('refuses a type that is not dot-separated lower-case words, exiting 2', async () => {
    const bad = execFileAsync(process.execPath, [join(PROJECT, 'bin', 'herald.cjs'), 'processors', 'new', 'Invoice', '--root', root], { timeout: 60_000 });
    await expect(bad).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('is not a request type') });
  });
});

describe('the generated test, run against the generated processor', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(join(root, 'test', 'unit', 'processors', 'invoice-render.test.ts'));
});
