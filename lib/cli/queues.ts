/**
 * `herald queues`: every queue the target names, with how many messages wait in it and in its
 * dead-letter queue. The local console shows the same figures through `queueDepths`.
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueName } from '../topology';
import { CliUsageError, withTarget, type QueueUrls } from './context';

export const USAGE = 'Usage: herald queues [--json] <target>';

export interface QueueDepth {
  readonly queue: string;
  /** Messages waiting or being worked on (visible + in flight, as SQS approximates them). */
  readonly depth: number;
  /** Messages in the dead-letter queue: given up, waiting for `herald redrive`. */
  readonly deadLetters?: number;
}

/** Visible and in-flight messages of one queue: a dead letter someone is looking at still waits. */
export async function approximateDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/** The depth of each named queue and of its dead-letter queue, in the topology's order. */
export async function queueDepths(sqs: SQSClient, queueUrls: Partial<Record<QueueName, QueueUrls>>): Promise<QueueDepth[]> {
  return Promise.all(
    Object.entries(queueUrls).map(async ([queue, urls]) => {
      const [depth, deadLetters] = await Promise.all([
        approximateDepth(sqs, urls!.url),
        urls!.deadLetterUrl ? approximateDepth(sqs, urls!.deadLetterUrl) : Promise.resolve(undefined),
      ]);
      return { queue, depth, ...(deadLetters !== undefined ? { deadLetters } : {}) };
    }),
  );
}

export async function run(argv: string[]): Promise<void> {
  await withTarget(argv, {}, USAGE, async (target, { values, positionals }) => {
    if (positionals.length) throw new CliUsageError(USAGE);
    const depths = await queueDepths(target.sqs, target.queues);
    if (values.json) {
      console.log(JSON.stringify(depths));
      return;
    }
    if (depths.length === 0) console.log(`${target.description} names no queues`);
    for (const { queue, depth, deadLetters } of depths) {
      console.log(`${queue.padEnd(12)} ${String(depth).padStart(6)} waiting${deadLetters === undefined ? '' : `  ${String(deadLetters).padStart(6)} dead-lettered`}`);
    }
  });
}
