/**
 * `herald redrive <queue> [--max N] [--dry-run]`: moves the messages of a queue's dead-letter
 * queue back to the queue (the operation itself lives in lib/operations/redrive.ts, which the
 * local console's redrive button runs too).
 */
import { DynamoRedriveLog } from '../../lambdas/adapters/dynamo-redrive-log';
import { progressBar, redrive, type RedriveReport } from '../operations/redrive';
import { queues } from '../topology';
import { type QueueName } from '../../lambdas/settings/retry';
import { CliFailedError, CliUsageError, withTarget } from './context';
import { printJson, printText, withoutControls } from './output';

export { progressBar, redrive, type Progress, type RedriveOptions, type RedriveReport, type RedriveTarget } from '../operations/redrive';

export const USAGE = `Usage: herald redrive <${Object.keys(queues).join('|')}> [--max N] [--dry-run] [--json] <target>

Moves the messages of a queue's dead-letter queue back to the queue, at most as many as it held
when the run began; a message that fails again and comes back during the run waits for the next
redrive. A request whose attempts ran out reopens (failed → accepted, a new round of attempts)
when its message arrives.
  --max N     move at most N messages (in batches, also on AWS)
  --dry-run   say how many would move and show the first ones; move nothing
A progress bar shows on a terminal (stderr), none when piped.`;

/** The command: `herald redrive <queue> [--max N] [--dry-run] --local | --stack NAME | --table NAME`. */
export async function run(argv: string[]): Promise<void> {
  await withTarget(argv, { max: { type: 'string' }, 'dry-run': { type: 'boolean' } }, USAGE, async (target, { values, positionals }) => {
    const queueName = positionals[0];
    if (!queueName || !(queueName in queues) || positionals.length > 1) {
      throw new CliUsageError(`${queueName ? `No queue named "${positionals.join(' ')}". ` : ''}${USAGE}`);
    }
    let max: number | undefined;
    if (values.max !== undefined) {
      max = Number(values.max);
      if (!Number.isInteger(max) || max < 1) throw new CliUsageError('--max takes a whole number of at least 1');
    }
    const urls = target.queues[queueName as QueueName];
    if (!urls?.deadLetterUrl) throw new CliFailedError(`${target.description} does not name the ${queueName} queue and its dead-letter queue`);
    const report = await redrive(
      {
        sqs: target.sqs,
        queueName,
        queueUrl: urls.url,
        deadLetterUrl: urls.deadLetterUrl,
        redrives: new DynamoRedriveLog(target.dynamo, target.tableName),
        // fauxqs 1.9, behind the local runtime, has no message move tasks.
        moveTasks: target.kind !== 'local',
      },
      { ...(max !== undefined ? { max } : {}), dryRun: values['dry-run'] === true },
      values.json ? undefined : progressBar(),
    );
    if (values.json) printJson({ queue: queueName, ...report });
    else printText(formatReport(queueName, report));
  });
}

export function formatReport(queueName: string, report: RedriveReport): string {
  if (report.mode === 'dry-run') {
    const sample = report.sample?.length ? `\nFirst messages: ${report.sample.map(withoutControls).join(', ')}` : '';
    return `Dry run: ${report.waiting} message(s) in the ${queueName} DLQ; nothing was moved.${sample}`;
  }
  const how = report.mode === 'move-task' ? `by an SQS move task (${report.taskStatus})` : 'in batches';
  const refused = report.failed > 0 ? `; ${report.failed} refused by the queue stay in the DLQ` : '';
  const cameBack = report.cameBack ? `; ${report.cameBack} came back to the DLQ during the run and wait for the next redrive` : '';
  return `Moved ${report.moved} of ${report.waiting} message(s) from the ${queueName} DLQ back to the queue ${how}${refused}${cameBack} (redrive ${report.generation}).`;
}
