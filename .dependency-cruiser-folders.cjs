/**
 * No cycles between folders, checked in a run of its own. dependency-cruiser counts a folder's
 * subfolders into it, so `lib` as a whole both is imported (lib/topology.ts, read by Lambda code)
 * and imports Lambda code (the local runtime runs handlers): a cycle that exists only in the sum.
 * This run leaves out the files directly under lib/, which the module rules keep below every
 * folder that could close a loop through them (topology-imports-only-core-and-settings, lambdas-not-lib, core-imports-only-core).
 * The subdomain folders inside lambdas/core are left out too: a use case such as submit or status
 * reads requests, merchants, notifications and webhooks together, so the subdomains refer to each
 * other; what holds inside core is that lambdas/core/shared imports only itself.
 */
const { options } = require('./.dependency-cruiser.cjs');

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular-folders',
      comment: 'Folders depend on each other one way only; a cycle between two folders means a contract sits on the wrong side.',
      severity: 'error',
      scope: 'folder',
      from: { pathNot: '^lambdas/core/(requests|webhooks|notifications|merchants)$' },
      to: { circular: true },
    },
  ],
  options: { ...options, exclude: { path: [options.exclude.path, '^lib/[^/]+\\.ts$'] } },
};
