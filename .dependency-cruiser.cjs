/**
 * Layer rules: a file's folder tells what it may import (DESIGN.md, "Layout").
 * `npm run lint:deps` checks them, and the folder cycles of .dependency-cruiser-folders.cjs;
 * CI runs it before the tests.
 */
const OURS = '^(bin|lib|lambdas|bench|scripts|test)/';

/**
 * One row per rule: files under `from` either may import nothing of ours outside `mayImport`, or
 * must never import `never`. Every rule is an error.
 */
const LAYERS = [
  {
    name: 'core-imports-only-core',
    from: '^lambdas/core/',
    mayImport: '^lambdas/core/',
    comment: 'The domain is pure: it imports nothing of ours from outside lambdas/core (no adapters, handlers, processors or lib).',
  },
  {
    name: 'processors-import-only-core',
    from: '^lambdas/processors/',
    mayImport: '^lambdas/(core|processors)/',
    comment: 'A processor is the work itself: besides its own folder it may use only the domain, never adapters, handlers or lib.',
  },
  {
    name: 'adapters-not-handlers',
    from: '^lambdas/adapters/',
    never: '^lambdas/handlers/',
    comment: 'Adapters wrap the AWS SDK for the domain; handlers compose them, never the other way round.',
  },
  {
    name: 'handlers-not-local-or-constructs',
    from: '^lambdas/handlers/',
    never: '^lib/(local|constructs)/',
    comment: 'Lambda code ships to AWS: the local runtime and the CDK constructs are not part of its bundle.',
  },
  {
    name: 'local-not-constructs',
    from: '^lib/local/',
    never: '^lib/constructs/',
    comment: 'The local runtime renders the topology itself; it does not reach into the CDK constructs.',
  },
  {
    name: 'constructs-not-local',
    from: '^lib/constructs/',
    never: '^lib/local/',
    comment: 'The CDK constructs describe AWS; they do not depend on the local runtime.',
  },
  {
    name: 'topology-imports-only-core-and-settings',
    from: '^lib/topology\\.ts$',
    mayImport: '^lambdas/(core|settings)/',
    comment: 'The topology describes the deployment on top of the runtime settings and domain types, nothing else of ours.',
  },
  {
    name: 'lambdas-not-lib',
    from: '^lambdas/',
    never: '^lib/',
    comment: 'Lambda code ships alone: what it reads at run time (settings, names, schedules) lives under lambdas/, never in lib.',
  },
  {
    name: 'settings-import-only-core',
    from: '^lambdas/settings/',
    mayImport: '^lambdas/(core|settings)/',
    comment: 'Settings are data: they may build on domain types and constants, nothing else of ours.',
  },
  {
    name: 'core-shared-imports-only-shared',
    from: '^lambdas/core/shared/',
    mayImport: '^lambdas/core/shared/',
    comment: 'What every subdomain builds on depends on no subdomain, so it can never close a loop between them.',
  },
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: LAYERS.map(({ name, comment, from, mayImport, never }) => ({
    name,
    comment,
    severity: 'error',
    from: { path: from },
    to: mayImport ? { path: OURS, pathNot: mayImport } : { path: never },
  })),
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|cdk\\.out)/' },
    // Type-only imports count: a type imported from another layer is a dependency on it.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json'] },
  },
};
