/**
 * `npm run bench:coldstart`: the size and the module initialisation time of every handler bundle.
 *
 *   npm run bench:coldstart -- [--runs 20] [--no-synth]
 *
 * Runs `npx cdk synth --quiet` (skipped with --no-synth), then for each function's bundle in
 * cdk.out: its size in KB and the median time, over `--runs` fresh Node processes, that
 * `require` of the bundle takes with the function's own environment (NODE_OPTIONS included), as
 * Lambda's init phase would. Two variants: the AWS SDK taken from the runtime (what the stack
 * deploys; here it loads from node_modules) and the AWS SDK bundled in (built here with the same
 * esbuild settings). The deployed variant's time is split in two, in the same process: first the
 * AWS SDK modules the bundle requires, alone (the floor no Herald code can lower), then the
 * bundle itself with those already loaded (Herald's own code and its other dependencies).
 * Budgets: 250 KB and 60 ms per bundle.
 * A benchmark, not a test: it prints figures and asserts nothing.
 */
import './support/quiet';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { bundleConstants } from '../lib/constructs/functions';
import { PROJECT_ROOT } from '../lib/local/dynamodb-local';
import { handlerBundles, type HandlerBundle } from '../lib/local/handler-bundles';
import { functions, type FunctionName } from '../lib/topology';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' }, 'no-synth': { type: 'boolean', default: false } } });
const runs = Number(values.runs);
const SIZE_BUDGET_KB = 250;
const INIT_BUDGET_MS = 60;

// Runs in the fresh process: nothing but loading is timed. The SDK modules named after the bundle
// are resolved from the bundle's folder (as its own require would) and loaded first, each part timed.
// CPU time beside wall time: on a shared machine the wall clock also counts waiting for a core.
const INIT_PROBE = `const { performance } = require('node:perf_hooks');
const { dirname } = require('node:path');
const [file, ...sdkModules] = process.argv.slice(1);
const clock = () => ({ wall: performance.now(), cpu: process.cpuUsage() });
const since = (start) => ({ wall: performance.now() - start.wall, cpu: (({ user, system }) => (user + system) / 1000)(process.cpuUsage(start.cpu)) });
const started = clock();
for (const name of sdkModules) require(require.resolve(name, { paths: [dirname(file)] }));
const sdk = since(started);
const own = clock();
require(file);
process.stdout.write(JSON.stringify({ total: since(started), sdk, own: since(own) }));`;

interface Sample {
  readonly wall: number;
  readonly cpu: number;
}

interface Init {
  readonly wallMs: number;
  readonly cpuMs: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const medianOf = (samples: readonly Sample[]): Init => ({ wallMs: median(samples.map((s) => s.wall)), cpuMs: median(samples.map((s) => s.cpu)) });

/** A bundle's initialisation: in all, the AWS SDK modules it requires alone, and the rest once they are loaded. */
interface Split {
  readonly total: Init;
  readonly sdk: Init;
  readonly own: Init;
}

/** The external AWS SDK modules a bundle requires at load (a bundled SDK's optional extras, required in a `try`, are not counted). */
function sdkModulesOf(file: string): string[] {
  return [...new Set([...readFileSync(file, 'utf8').matchAll(/require\("(@aws-sdk\/[^"]+)"\)/g)].map((match) => match[1]!))].sort();
}

function init(file: string, environment: Readonly<Record<string, string>>, name: FunctionName, sdkModules: readonly string[]): Split {
  const samples: { total: Sample; sdk: Sample; own: Sample }[] = [];
  for (let i = 0; i < runs; i++) {
    const output = execFileSync(process.execPath, ['-e', INIT_PROBE, file, ...sdkModules], {
      cwd: tmpdir(),
      env: {
        PATH: process.env.PATH,
        // What Lambda sets for every function, then the function's own variables from the template.
        AWS_REGION: 'us-east-1',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
        AWS_LAMBDA_FUNCTION_NAME: `herald-${name}`,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(functions[name].memoryMb),
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...placeholders(environment),
        ...environment,
      },
      encoding: 'utf8',
    });
    samples.push(JSON.parse(output) as { total: Sample; sdk: Sample; own: Sample });
  }
  return { total: medianOf(samples.map((s) => s.total)), sdk: medianOf(samples.map((s) => s.sdk)), own: medianOf(samples.map((s) => s.own)) };
}

/** Resource names CloudFormation fills in at deploy time get a stand-in, so a module reading one at load finds it. */
function placeholders(environment: Readonly<Record<string, string>>): Record<string, string> {
  const names = ['HERALD_TABLE_NAME', 'HERALD_REQUESTS_QUEUE_URL', 'HERALD_DELIVERIES_QUEUE_URL', 'HERALD_NOTIFICATIONS_TOPIC_ARN'];
  return Object.fromEntries(names.filter((key) => !(key in environment)).map((key) => [key, 'resolved-at-deploy']));
}

/** The same bundle with the AWS SDK inside, built with the stack's esbuild settings. */
async function withSdkBundled(name: FunctionName, outdir: string): Promise<string> {
  const file = join(outdir, name, 'index.js');
  await build({
    entryPoints: [join(PROJECT_ROOT, functions[name].entry)],
    outfile: file,
    bundle: true,
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    define: bundleConstants(name),
    logLevel: 'silent',
  });
  return file;
}

const kb = (file: string) => statSync(file).size / 1024;
const pad = (text: string, width: number) => text.padStart(width);
const ms = (init: Init) => `${init.wallMs.toFixed(1)} / ${init.cpuMs.toFixed(1)}`;

async function main(): Promise<void> {
  if (!values['no-synth']) {
    console.log('npx cdk synth --quiet ...');
    try {
      execFileSync('npx', ['cdk', 'synth', '--quiet'], { cwd: PROJECT_ROOT, stdio: 'pipe', env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' } });
    } catch (error) {
      throw new Error(`npx cdk synth failed:\n${String((error as { stderr?: Buffer }).stderr ?? error)}`);
    }
  }
  const bundles = handlerBundles(join(PROJECT_ROOT, 'cdk.out'));
  const outdir = mkdtempSync(join(tmpdir(), 'herald-sdk-bundled-'));
  const load = loadavg()[0]!;
  const rows: { name: FunctionName; deployedKb: number; deployed: Split; sdkModules: string[]; bundledKb: number; bundled: Split }[] = [];
  try {
    for (const [name, bundle] of Object.entries(bundles) as [FunctionName, HandlerBundle][]) {
      const bundledFile = await withSdkBundled(name, outdir);
      const sdkModules = sdkModulesOf(bundle.file);
      rows.push({
        name,
        deployedKb: kb(bundle.file),
        deployed: init(bundle.file, bundle.environment, name, sdkModules),
        sdkModules,
        bundledKb: kb(bundledFile),
        // The SDK is inside this one: nothing to load first, so all of it counts as the bundle's own.
        bundled: init(bundledFile, bundle.environment, name, []),
      });
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
  const over = rows.filter((r) => r.deployedKb > SIZE_BUDGET_KB || r.deployed.total.wallMs > INIT_BUDGET_MS);
  const ownOver = rows.filter((r) => r.deployed.own.wallMs > INIT_BUDGET_MS);
  const largest = (pick: (r: (typeof rows)[number]) => number) => Math.max(...rows.map(pick)).toFixed(1);
  console.log(
    [
      '',
      `Handler bundles from cdk.out: minified size and module initialisation, median of ${runs} fresh Node ${process.version} processes`,
      `(init as wall ms / CPU ms; ${cpus().length} cores, load average ${load.toFixed(1)} at the start: wall time above CPU time is waiting for a core)`,
      `budgets: ${SIZE_BUDGET_KB} KB and ${INIT_BUDGET_MS} ms per bundle, for the deployed variant (AWS SDK from the runtime)`,
      'deployed init = AWS SDK alone (the modules the bundle requires, loaded first) + Herald (the bundle, with those loaded)',
      '',
      `${'function'.padEnd(16)}${pad('deployed KB', 12)}${pad('init ms', 16)}${pad('AWS SDK ms', 16)}${pad('Herald ms', 16)}  |${pad('SDK bundled KB', 16)}${pad('init ms', 16)}`,
      ...rows.map(
        (r) =>
          `${r.name.padEnd(16)}${pad(r.deployedKb.toFixed(0), 12)}${pad(ms(r.deployed.total), 16)}${pad(ms(r.deployed.sdk), 16)}${pad(ms(r.deployed.own), 16)}  |${pad(r.bundledKb.toFixed(0), 16)}${pad(ms(r.bundled.total), 16)}`,
      ),
      '',
      'AWS SDK modules each deployed bundle requires:',
      ...rows.map((r) => `  ${r.name.padEnd(16)}${r.sdkModules.map((m) => m.replace('@aws-sdk/', '')).join(', ')}`),
      '',
      `largest deployed bundle: ${Math.max(...rows.map((r) => r.deployedKb)).toFixed(0)} KB; slowest init: ${largest((r) => r.deployed.total.wallMs)} ms wall, ${largest((r) => r.deployed.total.cpuMs)} ms CPU`,
      `of which the AWS SDK alone: up to ${largest((r) => r.deployed.sdk.wallMs)} ms wall, ${largest((r) => r.deployed.sdk.cpuMs)} ms CPU; Herald's own: up to ${largest((r) => r.deployed.own.wallMs)} ms wall, ${largest((r) => r.deployed.own.cpuMs)} ms CPU`,
      `over budget: ${over.length === 0 ? 'none' : over.map((r) => r.name).join(', ')}`,
      `over budget without the AWS SDK (Herald's own init above ${INIT_BUDGET_MS} ms): ${ownOver.length === 0 ? 'none' : ownOver.map((r) => r.name).join(', ')}`,
      '',
    ].join('\n'),
  );
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
