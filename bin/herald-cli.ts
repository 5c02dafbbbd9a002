/**
 * The operator CLI, run as `npx herald <command> …`. Each command lives in its own module under
 * lib/cli/ and registers here.
 */
type Command = (argv: string[]) => Promise<void>;

// Loaded with require so only the command in use is loaded (and it works under tsx's CommonJS hook).
const commands: Record<string, { summary: string; load: () => Command }> = {
  merchants: { summary: 'create a merchant and its first API key; show a merchant', load: () => require('../lib/cli/merchants').run },
  keys: { summary: "create, list and revoke a merchant's API keys", load: () => require('../lib/cli/keys').run },
  requests: { summary: 'show everything stored about one request', load: () => require('../lib/cli/requests').run },
  redrive: { summary: "move a queue's dead letters back to it (requests reopen for a new round)", load: () => require('../lib/cli/redrive').run },
  wallets: { summary: 'credit a wallet for the wallet.debit saga; show its balance', load: () => require('../lib/cli/wallets').run },
};

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const command = name ? commands[name] : undefined;
  if (!command) {
    console.log('Usage: herald <command> [options]\n\nCommands:');
    for (const [commandName, { summary }] of Object.entries(commands)) console.log(`  ${commandName.padEnd(12)} ${summary}`);
    process.exitCode = name && name !== 'help' && name !== '--help' ? 2 : 0;
    return;
  }
  await command.load()(rest);
}

main().catch((error: unknown) => {
  console.error(`herald: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
