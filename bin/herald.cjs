#!/usr/bin/env node
// `npx herald …`: runs the TypeScript operator CLI through tsx, so no build step is needed.
// Node 20 is supported here until its end of life; the SDK's eight-line notice on every call
// would bury the answer (npm start silences it the same way).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
require('tsx/cjs');
require('./herald-cli.ts');
