import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import type { AssetManifestArtifact, CloudAssembly } from 'aws-cdk-lib/cx-api';
import { HeraldStack } from '../../lib/herald-stack';
import { functions } from '../../lib/topology';

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
