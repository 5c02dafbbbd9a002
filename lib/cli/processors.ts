/**
 * `herald processors new <type>`: starts a new request type from the template (see
 * docs/processors.md). It writes the processor and its test and lists the processor in the
 * registry; it never overwrites a file, and needs no running Herald.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { argumentMistake, CliFailedError, CliUsageError, commonOptions, COMMON_USAGE, printHelp } from './context';
import {
  PROCESSOR_TYPE_PATTERN,
  processorNames,
  processorSource,
  processorTestSource,
  registerInRegistrySource,
} from './processor-template';

export const USAGE = `Usage: herald processors new <type> [--root DIR] [--json]

Creates a request type from the template: lambdas/processors/<name>.ts (payload schema, a
retryable and a permanent failure), test/unit/processors/<name>.test.ts (run by npm test), and
its entry in lambdas/processors/registry.ts. <type> is dot-separated lower-case words, such as
invoice.render. Existing files are never overwritten.
  --root DIR   the project folder to write into (default: this checkout)`;

/** The checkout the CLI runs from: lib/cli → the project root. */
const PROJECT_ROOT = resolve(__dirname, '..', '..');
const REGISTRY = join('lambdas', 'processors', 'registry.ts');

export async function run(argv: string[]): Promise<void> {
  const options = { root: { type: 'string' }, ...commonOptions } as const;
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CliUsageError(`${argumentMistake(error as Error & { code?: string }, Object.keys(options))}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return printHelp(`${USAGE}\n\n${COMMON_USAGE}`, values.json === true);
  const [action, type, ...rest] = positionals;
  if (action !== 'new' || !type || rest.length) throw new CliUsageError(USAGE);
  if (!PROCESSOR_TYPE_PATTERN.test(type) || type.length > 100) {
    throw new CliUsageError(`"${type}" is not a request type: use dot-separated lower-case words, such as invoice.render`);
  }
  const created = createProcessor(values.root ?? PROJECT_ROOT, type);
  if (values.json) {
    console.log(JSON.stringify(created));
    return;
  }
  console.log(
    [
      `Created ${created.type}:`,
      ...created.files.map((file) => `  ${file}`),
      `  ${created.registry} (now lists ${created.exportName})`,
      '',
      'Next:',
      `  npx jest ${created.files[1]}   (its own test; npm test runs it too)`,
      `  npm start                        (the local runtime accepts ${created.type})`,
      '  docs/processors.md walks the rest, up to npm run deploy.',
    ].join('\n'),
  );
}

/** Writes the processor and its test, and registers it; refuses rather than overwrite anything. */
export function createProcessor(root: string, type: string): { type: string; exportName: string; files: string[]; registry: string } {
  const names = processorNames(type);
  const files = {
    processor: join('lambdas', 'processors', `${names.fileName}.ts`),
    test: join('test', 'unit', 'processors', `${names.fileName}.test.ts`),
  };
  const registryPath = join(root, REGISTRY);
  if (!existsSync(registryPath)) throw new CliFailedError(`No ${REGISTRY} under ${root}: run this from a Herald checkout or pass --root`);
  const registry = readFileSync(registryPath, 'utf8');
  if (registry.includes(`'./${names.fileName}'`) || registry.includes(`{ ${names.exportName} }`)) {
    throw new CliFailedError(`${REGISTRY} already lists ${names.exportName}`);
  }
  for (const file of Object.values(files)) {
    if (existsSync(join(root, file))) throw new CliFailedError(`${file} exists already; choose another type or remove it first`);
  }
  const registered = registerInRegistrySource(registry, names);
  if (!registered) {
    throw new CliFailedError(`${REGISTRY} no longer has the business list this command edits; add ${names.exportName} to it by hand`);
  }
  for (const [file, source] of [
    [files.processor, processorSource(names)],
    [files.test, processorTestSource(names)],
  ] as const) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), source, { flag: 'wx' });
  }
  writeFileSync(registryPath, registered);
  return { type, exportName: names.exportName, files: [files.processor, files.test].map((f) => relative(root, join(root, f))), registry: REGISTRY };
}
