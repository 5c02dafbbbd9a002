/**
 * How many messages wait in each queue and its dead-letter queue: `herald queues` prints it,
 * the local console shows it beside its redrive buttons.
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueName } from '../../lambdas/settings/retry';

/** A queue's URL and its dead-letter queue's, where known. */
export interface QueueUrls {
  readonly url: string;
  readonly deadLetterUrl?: string;
  /** The queue's slow lane (docs/scale.md), where it has one. */
  readonly slowLaneUrl?: string;
}

export interface QueueDepth {
  readonly queue: string;
  /** Messages waiting or being worked on (visible + in flight, as SQS approximates them). */
  readonly depth: number;
  /** Messages in the dead-letter queue: given up, waiting for `herald redrive`. */
  readonly deadLetters?: number;
  /** Messages in the queue's slow lane: one merchant's slow work, kept apart so it cannot hold the others up. */
  readonly slowLane?: number;
}

/** The URLs `queueDepths` reads, from queues as the local runtime provisions them. */
export function queueUrlsOf<Name extends string>(
  provisioned: Record<Name, { readonly url: string; readonly deadLetterUrl?: string; readonly slowLane?: { readonly url: string } }>,
): Record<Name, QueueUrls> {
  return Object.fromEntries(
    Object.entries<{ url: string; deadLetterUrl?: string; slowLane?: { url: string } }>(provisioned).map(([name, queue]) => [
      name,
      { url: queue.url, ...(queue.deadLetterUrl ? { deadLetterUrl: queue.deadLetterUrl } : {}), ...(queue.slowLane ? { slowLaneUrl: queue.slowLane.url } : {}) },
    ]),
  ) as Record<Name, QueueUrls>;
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
      const [depth, deadLetters, slowLane] = await Promise.all([
        approximateDepth(sqs, urls!.url),
        urls!.deadLetterUrl ? approximateDepth(sqs, urls!.deadLetterUrl) : Promise.resolve(undefined),
        urls!.slowLaneUrl ? approximateDepth(sqs, urls!.slowLaneUrl) : Promise.resolve(undefined),
      ]);
      return { queue, depth, ...(deadLetters !== undefined ? { deadLetters } : {}), ...(slowLane !== undefined ? { slowLane } : {}) };
    }),
  );
}
