import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');
const FOLDER_CONFIG = path.join(ROOT, '.dependency-cruiser-folders.cjs');
const DEPCRUISE = path.join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const FIXTURE = path.join(ROOT, 'test/fixtures/layer-violations');

interface Violation {
  readonly type: string;
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string; readonly severity: string };
}

function depcruise(cwd: string, args: readonly string[], config = CONFIG) {
  return spawnSync(process.execPath, [DEPCRUISE, ...args, '--config', config], { cwd, encoding: 'utf8' });
}

/** The violations the layer rules find in a tree, as dependency-cruiser's JSON report lists them. */
function violationsIn(cwd: string, folders: readonly string[], config = CONFIG): Violation[] {
  const run = depcruise(cwd, [...folders, '--output-type', 'json'], config);
  if (!run.stdout) throw new Error(`dependency-cruiser printed nothing: ${run.stderr}`);
  return (JSON.parse(run.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('layer rules', () => {
  let fixture: { violations: Violation[]; folderCycles: Violation[] };
  beforeAll(() => {
    fixture = { violations: violationsIn(FIXTURE, ['lambdas', 'lib']), folderCycles: violationsIn(FIXTURE, ['lambdas', 'lib'], FOLDER_CONFIG) };
  });

  it('exits non-zero and names the broken rule when a tree breaks a layer rule', () => {
    const run = depcruise(FIXTURE, ['lambdas', 'lib']);
    expect(run.status).not.toBe(0);
    expect(run.stdout).toContain('error core-imports-only-core: lambdas/core/quote.ts → lambdas/processors/price-list.ts');
  });

  it('names the rule when core imports a processor, even for a type-only import', () => {
    expect(fixture.violations).toContainEqual(
      expect.objectContaining({
        rule: expect.objectContaining({ name: 'core-imports-only-core', severity: 'error' }),
        from: 'lambdas/core/quote.ts',
        to: 'lambdas/processors/price-list.ts',
      }),
    );
  });

  it('names the rule when a handler imports the local runtime', () => {
    expect(fixture.violations).toContainEqual(
      expect.objectContaining({
        rule: expect.objectContaining({ name: 'handlers-not-local-or-constructs' }),
        from: 'lambdas/handlers/quote-api.ts',
        to: 'lib/local/runtime.ts',
      }),
    );
  });

  it.each([
    ['lambdas-not-lib', 'lambdas/handlers/quote-api.ts', 'lib/local/runtime.ts'],
    ['settings-import-only-core', 'lambdas/settings/limits.ts', 'lambdas/handlers/quote-api.ts'],
    ['core-shared-imports-only-shared', 'lambdas/core/shared/money.ts', 'lambdas/core/quote.ts'],
  ])('names %s when %s imports %s', (name, from, to) => {
    expect(fixture.violations).toContainEqual(expect.objectContaining({ rule: expect.objectContaining({ name, severity: 'error' }), from, to }));
  });

  it('reports a cycle between two folders', () => {
    const cycles = fixture.folderCycles.filter((violation) => violation.rule.name === 'no-circular-folders');
    expect(cycles.map(({ from, to }) => [from, to].sort().join(' <-> '))).toContain('lambdas/core <-> lambdas/processors');
  });

  it('passes on the real tree through the script CI runs', () => {
    const run = spawnSync('npm', ['run', '--silent', 'lint:deps'], { cwd: ROOT, encoding: 'utf8' });
    expect(run.stderr + run.stdout).toContain('no dependency violations found');
    expect(run.status).toBe(0);
  });
});
