/**
 * The `herald` command line: finds the command, runs it, and turns what went wrong into the
 * documented exit code. `bin/herald-cli.ts` calls it with the process's arguments; tests call it
 * in-process with their own.
 *
 * Every command takes `--json` (one JSON document on stdout, nothing else) and `--help`.
 * Exit codes: 0 ok, 1 failed, 2 usage (a mistake in the command line).
 */
import { CliUsageError, COMMON_USAGE, EXIT_CODES, printHelp } from './context';
import { jsonText, printError } from './output';

type Command = (argv: string[]) => Promise<void>;

// Loaded with require so only the command in use is loaded (and it works under tsx's CommonJS hook).
const commands: Record<string, { summary: string; load: () => Command }> = {
  merchants: { summary: 'create a merchant and its first API key; show a merchant', load: () => require('./merchants').run },
  keys: { summary: "create, list and revoke a merchant's API keys", load: () => require('./keys').run },
  requests: { summary: 'show everything stored about one request', load: () => require('./requests').run },
  tail: { summary: 'follow request transitions and webhook deliveries live, one line each', load: () => require('./tail').run },
  queues: { summary: 'show each queue and its dead-letter queue with their depths', load: () => require('./queues').run },
  redrive: { summary: "move a queue's dead letters back to it (requests reopen for a new round)", load: () => require('./redrive').run },
  wallets: { summary: 'credit a wallet for the wallet.debit saga; show its balance', load: () => require('./wallets').run },
};

export const COMMAND_NAMES = Object.keys(commands);

function usage(): string {
  const lines = Object.entries(commands).map(([name, { summary }]) => `  ${name.padEnd(12)} ${summary}`);
  return ['Usage: herald <command> [options]', '', 'Commands:', ...lines, '', 'Run `herald <command> --help` for its options.', '', COMMON_USAGE].join('\n');
}

async function dispatch(argv: readonly string[]): Promise<void> {
  const [name, ...rest] = argv;
  const command = name ? commands[name] : undefined;
  if (!command) {
    if (!name) throw new CliUsageError(usage());
    if (!['help', '--help', '-h', '--json'].includes(name)) throw new CliUsageError(`Unknown command "${name}"\n\n${usage()}`);
    printHelp(usage(), argv.includes('--json'));
    return;
  }
  await command.load()(rest);
}

/** Runs one `herald` command line and resolves to its exit code; errors are written to stderr. */
export async function runHerald(argv: readonly string[]): Promise<number> {
  try {
    await dispatch(argv);
    return EXIT_CODES.ok;
  } catch (error) {
    const usageError = error instanceof CliUsageError;
    const message = error instanceof Error ? error.message : String(error);
    // Errors go to stderr in every mode, so stdout under --json holds only the answer.
    if (argv.includes('--json')) printError(jsonText({ error: { kind: usageError ? 'usage' : 'failed', message } }));
    else printError(`herald: ${message}`);
    return usageError ? EXIT_CODES.usage : EXIT_CODES.failed;
  }
}
