/**
 * The operator CLI, run as `npx herald <command> …`; the commands live under lib/cli/.
 * Exit codes: 0 ok, 1 failed, 2 usage.
 */
import { runHerald } from '../lib/cli/main';

void runHerald(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
