/**
 * Layer rules: a file's folder tells what it may import (DESIGN.md, "Layout").
 * `npm run lint:deps` checks them, and the folder cycles of .dependency-cruiser-folders.cjs;
 * CI runs it before the tests.
 */
const OURS = '^(bin|lib|lambdas|bench|scripts|test)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-imports-only-core',
      comment: 'The domain is pure: it imports nothing of ours from outside lambdas/core (no adapters, handlers, processors or lib).',
      severity: 'error',
      from: { path: '^lambdas/core/' },
      to: { path: OURS, pathNot: '^lambdas/core/' },
    },
    {
      name: 'processors-import-only-core',
      comment: 'A processor is the work itself: besides its own folder it may use only the domain, never adapters, handlers or lib.',
      severity: 'error',
      from: { path: '^lambdas/processors/' },
      to: { path: OURS, pathNot: '^lambdas/(core|processors)/' },
    },
    {
      name: 'adapters-not-handlers',
      comment: 'Adapters wrap the AWS SDK for the domain; handlers compose them, never the other way round.',
      severity: 'error',
      from: { path: '^lambdas/adapters/' },
      to: { path: '^lambdas/handlers/' },
    },
    {
      name: 'handlers-not-local-or-constructs',
      comment: 'Lambda code ships to AWS: the local runtime and the CDK constructs are not part of its bundle.',
      severity: 'error',
      from: { path: '^lambdas/handlers/' },
      to: { path: '^lib/(local|constructs)/' },
    },
    {
      name: 'local-not-constructs',
      comment: 'The local runtime renders the topology itself; it does not reach into the CDK constructs.',
      severity: 'error',
      from: { path: '^lib/local/' },
      to: { path: '^lib/constructs/' },
    },
    {
      name: 'constructs-not-local',
      comment: 'The CDK constructs describe AWS; they do not depend on the local runtime.',
      severity: 'error',
      from: { path: '^lib/constructs/' },
      to: { path: '^lib/local/' },
    },
    {
      name: 'topology-imports-only-core-and-settings',
      comment: 'The topology describes the deployment on top of the runtime settings and domain types, nothing else of ours.',
      severity: 'error',
      from: { path: '^lib/topology\\.ts$' },
      to: { path: OURS, pathNot: '^lambdas/(core|settings)/' },
    },
    {
      name: 'lambdas-not-lib',
      comment: 'Lambda code ships alone: what it reads at run time (settings, names, schedules) lives under lambdas/, never in lib.',
      severity: 'error',
      from: { path: '^lambdas/' },
      to: { path: '^lib/' },
    },
    {
      name: 'settings-import-only-core',
      comment: 'Settings are data: they may build on domain types and constants, nothing else of ours.',
      severity: 'error',
      from: { path: '^lambdas/settings/' },
      to: { path: OURS, pathNot: '^lambdas/(core|settings)/' },
    },
    {
      name: 'core-shared-imports-only-shared',
      comment: 'What every subdomain builds on depends on no subdomain, so it can never close a loop between them.',
      severity: 'error',
      from: { path: '^lambdas/core/shared/' },
      to: { path: OURS, pathNot: '^lambdas/core/shared/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|cdk\\.out)/' },
    // Type-only imports count: a type imported from another layer is a dependency on it.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json'] },
  },
};
