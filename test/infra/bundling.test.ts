import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import type { AssetManifestArtifact, CloudAssembly } from 'aws-cdk-lib/cx-api';
import { HeraldStack } from '../../lib/herald-stack';
import { functions, type FunctionName } from '../../lib/topology';

// The one infra test that bundles: it proves every handler compiles with the local esbuild.
jest.setTimeout(300_000);

let outdir: string;
let assembly: CloudAssembly;

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'herald-bundling-'));
  const app = new App({ outdir });
  new HeraldStack(app, 'Herald');
  assembly = app.synth();
});

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

it('bundles every function of the topology into an asset with a handler and its source map', () => {
  const manifest = assembly.artifacts.find(a => a.id === 'Herald.assets') as AssetManifestArtifact | undefined;
  expect(manifest).toBeDefined();
  const { files } = JSON.parse(readFileSync(manifest!.file, 'utf8')) as {
    files: Record<string, { source: { path: string; packaging?: string } }>;
  };
  const bundles = Object.values(files)
    .map(file => path.join(outdir, file.source.path))
    .filter(bundle => existsSync(path.join(bundle, 'index.js')));

  expect(bundles).toHaveLength(Object.keys(functions).length);
  for (const bundle of bundles) expect(existsSync(path.join(bundle, 'index.js.map'))).toBe(true);
});

/** The folder holding the bundle the stack deploys for one function of the topology. */
function bundleOf(name: FunctionName): string {
  const stack = assembly.getStackByName('Herald');
  const resources = Object.values(stack.template.Resources as Record<string, { Type: string; Properties: Record<string, any> }>);
  const fn = resources.find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Description === functions[name].description);
  const assetHash = String(fn?.Properties.Code?.S3Key ?? '').replace(/\.zip$/, '');
  const manifest = assembly.artifacts.find(a => a.id === 'Herald.assets') as AssetManifestArtifact;
  const { files } = JSON.parse(readFileSync(manifest.file, 'utf8')) as { files: Record<string, { source: { path: string } }> };
  return path.join(outdir, files[assetHash]!.source.path);
}

it('logs a refused request with the literal name of its error class, though the bundle is minified', () => {
  const bundle = bundleOf('status');
  // The minifier renames classes: a name read from the constructor would be a letter or two here.
  expect(readFileSync(path.join(bundle, 'index.js'), 'utf8')).not.toMatch(/class UnauthorizedError\b/);
  // A fresh Node runs the bundle as Lambda would: no authorizer context, so the route refuses with a 401.
  const script = `
    const { handler } = require(${JSON.stringify(path.join(bundle, 'index.js'))});
    const event = { rawPath: '/v1/requests/req_1', headers: {}, pathParameters: { id: 'req_1' }, requestContext: {} };
    const context = { functionName: 'status', awsRequestId: 'r-1', getRemainingTimeInMillis: () => 10000 };
    handler(event, context).then((result) => { if (result.statusCode !== 401) process.exitCode = 1; });
  `;
  const stdout = execFileSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      // The SDK is left out of bundles (the Lambda runtime provides it); this project's copy stands in.
      NODE_PATH: path.join(__dirname, '..', '..', 'node_modules'),
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_TRACE_ENABLED: 'false',
    },
  });
  const lines = stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(lines.find((line) => line.message === 'Request refused')).toMatchObject({ code: 'unauthorized', error: 'UnauthorizedError', status: 401 });
});
