/**
 * The operator CLI, run as `npx herald <command> …`. Each command lives in its own module under
 * lib/cli/ and registers here.
 *
 * Every command takes `--json` (one JSON document on stdout, nothing else) and `--help`.
 * Exit codes: 0 ok, 1 failed, 2 usage (a mistake in the command line).
 */
import { CliUsageError, COMMON_USAGE, EXIT_CODES, printHelp } from '../lib/cli/context';

type Command = (argv: string[]) => Promise<void>;

// Loaded with require so only the command in use is loaded (and it works under tsx's CommonJS hook).
const commands: Record<string, { summary: string; load: () => Command }> = {
  merchants: { summary: 'create a merchant and its first API key; show a merchant', load: () => require('../lib/cli/merchants').run },
  keys: { summary: "create, list and revoke a merchant's API keys", load: () => require('../lib/cli/keys').run },
  requests: { summary: 'show everything stored about one request', load: () => require('../lib/cli/requests').run },
  tail: { summary: 'follow request transitions and webhook deliveries live, one line each', load: () => require('../lib/cli/tail').run },
  queues: { summary: 'show each queue and its dead-letter queue with their depths', load: () => require('../lib/cli/queues').run },
  redrive: { summary: "move a queue's dead letters back to it (requests reopen for a new round)", load: () => require('../lib/cli/redrive').run },
  wallets: { summary: 'credit a wallet for the wallet.debit saga; show its balance', load: () => require('../lib/cli/wallets').run },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, { summary }]) => `  ${name.padEnd(12)} ${summary}`);
  return ['Usage: herald <command> [options]', '', 'Commands:', ...lines, '', 'Run `herald <command> --help` for its options.', '', COMMON_USAGE].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  const command = name ? commands[name] : undefined;
  if (!command) {
    if (name && !['help', '--help', '-h', '--json'].includes(name)) throw new CliUsageError(`Unknown command "${name}"\n\n${usage()}`);
    if (!name) throw new CliUsageError(usage());
    printHelp(usage(), argv.includes('--json'));
    return;
  }
  await command.load()(rest);
}

const argv = process.argv.slice(2);
main(argv).catch((error: unknown) => {
  const usageError = error instanceof CliUsageError;
  const message = error instanceof Error ? error.message : String(error);
  // Errors go to stderr in every mode, so stdout under --json holds only the answer.
  if (argv.includes('--json')) console.error(JSON.stringify({ error: { kind: usageError ? 'usage' : 'failed', message } }));
  else console.error(`herald: ${message}`);
  process.exitCode = usageError ? EXIT_CODES.usage : EXIT_CODES.failed;
});
