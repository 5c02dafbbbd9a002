/**
 * `herald queues`: every queue the target names, with how many messages wait in it, in its
 * dead-letter queue and in its slow lane. The local console shows the same figures through `queueDepths`.
 */
import { queueDepths } from '../operations/queue-depths';
import { CliUsageError, withTarget } from './context';
import { printJson, printText } from './output';

export const USAGE = 'Usage: herald queues [--json] <target>';

export async function run(argv: string[]): Promise<void> {
  await withTarget(argv, {}, USAGE, async (target, { values, positionals }) => {
    if (positionals.length) throw new CliUsageError(USAGE);
    const depths = await queueDepths(target.sqs, target.queues);
    if (values.json) {
      printJson(depths);
      return;
    }
    if (depths.length === 0) printText(`${target.description} names no queues`);
    for (const { queue, depth, deadLetters, slowLane } of depths) {
      printText(
        `${queue.padEnd(12)} ${String(depth).padStart(6)} waiting` +
          (deadLetters === undefined ? '' : `  ${String(deadLetters).padStart(6)} dead-lettered`) +
          (slowLane === undefined ? '' : `  ${String(slowLane).padStart(6)} in the slow lane`),
      );
    }
  });
}
