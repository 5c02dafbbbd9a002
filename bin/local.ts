/**
 * `npm start`: the whole of Herald on this machine, on embedded AWS-compatible endpoints.
 *
 *   npm start                      # in memory
 *   npm start -- --data-dir .herald-data   # keep the table across restarts
 *   npm start -- --bundled         # run the handler bundles `cdk synth` writes, as deployed
 *
 * PORT sets the HTTP port (3000), HERALD_LOCAL_API_KEY the demo merchant's API key
 * (LOCAL_DEMO_API_KEY, fixed so that the README's commands work as pasted),
 * HERALD_RETRY_SCALE how much retry delays shrink (0.01).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalSetupError, PROJECT_ROOT } from '../lib/local/dynamodb-local';
import { handlerBundleFiles } from '../lib/local/handler-bundles';
import { useHandlerBundles } from '../lib/local/lambda-context';
import { startLocalRuntime } from '../lib/local/runtime';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { 'data-dir': { type: 'string' }, bundled: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(
      [
        'Usage: npm start [-- --data-dir DIR] [-- --bundled]',
        '  --data-dir DIR  keep the table in DIR across restarts',
        '  --bundled       synthesize the stack and run the handler bundles it writes to cdk.out instead of the TypeScript sources',
        'Environment: PORT, HERALD_LOCAL_API_KEY, HERALD_RETRY_SCALE',
      ].join('\n'),
    );
    return;
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  if (values.bundled) {
    console.log('Synthesizing the stack (npx cdk synth --quiet) to run its handler bundles...');
    try {
      execFileSync('npx', ['cdk', 'synth', '--quiet'], { cwd: PROJECT_ROOT, stdio: 'pipe', env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' } });
    } catch (error) {
      throw new LocalSetupError(`npx cdk synth failed, so there are no bundles to run:\n${String((error as { stderr?: Buffer }).stderr ?? error)}`);
    }
    useHandlerBundles(handlerBundleFiles(join(PROJECT_ROOT, 'cdk.out')));
  }
  const runtime = await startLocalRuntime({
    dataDir: values['data-dir'],
    apiKey: process.env.HERALD_LOCAL_API_KEY || undefined,
  });
  console.log(
    [
      '',
      `Herald is running at ${runtime.url}`,
      `  console        ${runtime.url}/ (live requests, deliveries, dead letters and outbox in your browser)`,
      `  demo merchant  ${runtime.merchantId}`,
      `  API key        ${runtime.apiKey}`,
      `  handlers       ${values.bundled ? 'the bundles in cdk.out, as deployed' : 'the TypeScript sources'}`,
      `  DynamoDB       ${runtime.endpoints.dynamodb} (${values['data-dir'] ? `kept in ${values['data-dir']}` : 'in memory'})`,
      `  SQS and SNS    ${runtime.endpoints.sqs}`,
      `  outbox         ${runtime.url}/local/outbox (every SMS and email Herald would send; nothing leaves this machine)`,
      '',
      'Try, in another terminal:',
      `  BASE=${runtime.url}`,
      `  KEY=${runtime.apiKey}`,
      `  curl -s -X POST $BASE/v1/requests -H "Authorization: Bearer $KEY" \\`,
      `    -H "Idempotency-Key: demo-1" -H "Content-Type: application/json" \\`,
      `    -d '{"type":"demo.sleep","payload":{"ms":500}}'`,
      `  npm run herald -- tail --local${runtime.port === 3000 ? '' : ` --port ${runtime.port}`}`,
      '',
      'Press Ctrl+C to stop.',
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal} received; stopping Herald...`);
    await runtime.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error) => {
  console.error(error instanceof LocalSetupError ? `herald: ${error.message}` : error);
  process.exit(1);
});
