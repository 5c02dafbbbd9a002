#!/usr/bin/env node
// `npx herald …`: runs the TypeScript operator CLI through tsx, so no build step is needed.
require('tsx/cjs');
require('./herald-cli.ts');
