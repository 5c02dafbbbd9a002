import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { functions, type FunctionName } from '../topology';

/** One function's bundle as `cdk synth` wrote it: the folder Lambda would receive, and its module. */
export interface HandlerBundle {
  readonly directory: string;
  readonly file: string;
  /** The function's environment in the template; values CloudFormation resolves at deploy time are left out. */
  readonly environment: Readonly<Record<string, string>>;
}

interface TemplateResource {
  readonly Type: string;
  readonly Metadata?: Record<string, unknown>;
  readonly Properties?: { Description?: string; Environment?: { Variables?: Record<string, unknown> } };
}

/**
 * The handler bundles of a cloud assembly (`cdk.out` after `npx cdk synth`), by function. Each
 * function is found by its topology description, which the stack copies onto the Lambda resource,
 * and its code by the asset path CDK records beside it. Throws when the assembly is missing or a
 * function has no bundle, naming what to run.
 */
export function handlerBundles(assemblyDir: string): Record<FunctionName, HandlerBundle> {
  const manifestFile = join(assemblyDir, 'manifest.json');
  if (!existsSync(manifestFile)) throw new Error(`No cloud assembly in ${assemblyDir}: run \`npx cdk synth --quiet\` first`);
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const resources: TemplateResource[] = [];
  for (const artifact of Object.values(manifest.artifacts)) {
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
    const template = JSON.parse(readFileSync(join(assemblyDir, artifact.properties.templateFile), 'utf8')) as {
      Resources?: Record<string, TemplateResource>;
    };
    resources.push(...Object.values(template.Resources ?? {}).filter((r) => r.Type === 'AWS::Lambda::Function'));
  }
  const bundles = {} as Record<FunctionName, HandlerBundle>;
  for (const [name, spec] of Object.entries(functions) as [FunctionName, (typeof functions)[FunctionName]][]) {
    const resource = resources.find((r) => r.Properties?.Description === spec.description);
    const assetPath = resource?.Metadata?.['aws:asset:path'];
    if (typeof assetPath !== 'string') throw new Error(`${assemblyDir} has no bundle for the ${name} function: run \`npx cdk synth --quiet\` again`);
    const directory = join(assemblyDir, assetPath);
    const environment: Record<string, string> = {};
    for (const [key, value] of Object.entries(resource?.Properties?.Environment?.Variables ?? {})) {
      if (typeof value === 'string') environment[key] = value;
    }
    bundles[name] = { directory, file: join(directory, 'index.js'), environment };
  }
  return bundles;
}

/** Each function's bundled module in a cloud assembly, as `useHandlerBundles` takes them. */
export function handlerBundleFiles(assemblyDir: string): Record<FunctionName, string> {
  const files = {} as Record<FunctionName, string>;
  for (const [name, bundle] of Object.entries(handlerBundles(assemblyDir)) as [FunctionName, HandlerBundle][]) files[name] = bundle.file;
  return files;
}
