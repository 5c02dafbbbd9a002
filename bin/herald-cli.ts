/**
 * The operator CLI, run as `npx herald <command> …`. Each command lives in its own module under
 * lib/cli/ and registers here.
 */
type Command = (argv: string[]) => Promise<void>;

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  // e.g. merchants: { summary: 'create merchants', load: async () => (await import('../lib/cli/merchants')).run },
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
  await (await command.load())(rest);
}

main().catch((error: unknown) => {
  console.error(`herald: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
