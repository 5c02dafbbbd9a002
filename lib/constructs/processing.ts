import { Duration } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import type { QueueName } from '../../lambdas/settings/retry';
import type { Functions } from './functions';
import type { WorkQueues } from './work-queues';

/** Lambda's bounds on an SQS event source's maximum concurrency. */
export const EVENT_SOURCE_CONCURRENCY = { min: 2, max: 1000 } as const;

export interface ProcessingProps {
  readonly functions: Functions;
  readonly queues: WorkQueues;
  /** Concurrent consumers per queue (the event source's maximum concurrency); absent: the topology's `maxConcurrency`. */
  readonly workerConcurrency?: Partial<Record<QueueName, number>>;
  /**
   * Concurrency reserved for each queue's consumer: it can neither starve nor be starved by other
   * functions of the account. At least the worker concurrency, or Lambda throttles the event
   * source and throttled messages return with their receive count spent. Absent: none reserved.
   */
  readonly reservedConcurrency?: Partial<Record<QueueName, number>>;
}

/**
 * Connects each queue to its consumer. Partial batch responses let one failed message retry on
 * its own schedule without redelivering, and re-running, the rest of its batch.
 */
export class Processing extends Construct {
  constructor(scope: Construct, id: string, props: ProcessingProps) {
    super(scope, id);
    for (const { name, queue, spec, slowLane } of props.queues.byName.values()) {
      const concurrency = props.workerConcurrency?.[name] ?? spec.maxConcurrency;
      if (!Number.isInteger(concurrency) || concurrency < EVENT_SOURCE_CONCURRENCY.min || concurrency > EVENT_SOURCE_CONCURRENCY.max) {
        throw new Error(`Worker concurrency of the ${name} queue must be a whole number from ${EVENT_SOURCE_CONCURRENCY.min} to ${EVENT_SOURCE_CONCURRENCY.max}, got ${concurrency}`);
      }
      const reserved = props.reservedConcurrency?.[name];
      // Both of a queue's event sources invoke its consumer: the reservation must hold the two pools at once.
      const consumers = concurrency + (spec.slowLane?.maxConcurrency ?? 0);
      if (reserved !== undefined && (!Number.isInteger(reserved) || reserved < consumers)) {
        throw new Error(
          `Reserved concurrency of the ${name} queue's consumer (${reserved}) must be a whole number at least its worker concurrency (${concurrency})` +
            (spec.slowLane ? ` plus its slow lane's (${spec.slowLane.maxConcurrency})` : '') +
            ', ' +
            'or Lambda throttles the event source and the throttled messages spend their receive count',
        );
      }
      const consumer = props.functions.get(spec.consumer);
      if (reserved !== undefined) (consumer.node.defaultChild as CfnFunction).reservedConcurrentExecutions = reserved;
      consumer.addEventSource(
        new SqsEventSource(queue, {
          batchSize: spec.batchSize,
          maxBatchingWindow: Duration.seconds(spec.maxBatchingWindowSeconds),
          maxConcurrency: concurrency,
          reportBatchItemFailures: true,
        }),
      );
      if (slowLane && spec.slowLane) {
        // A second mapping on the same function: its own maximum concurrency, within the function's reservation.
        consumer.addEventSource(
          new SqsEventSource(slowLane, {
            batchSize: spec.batchSize,
            maxBatchingWindow: Duration.seconds(spec.maxBatchingWindowSeconds),
            maxConcurrency: spec.slowLane.maxConcurrency,
            reportBatchItemFailures: true,
          }),
        );
      }
    }
  }
}
