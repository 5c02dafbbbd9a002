import { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import type { Functions } from './functions';
import type { WorkQueues } from './work-queues';

export interface ProcessingProps {
  readonly functions: Functions;
  readonly queues: WorkQueues;
}

/**
 * Connects each queue to its consumer. Partial batch responses let one failed message retry on
 * its own schedule without redelivering, and re-running, the rest of its batch.
 */
export class Processing extends Construct {
  constructor(scope: Construct, id: string, props: ProcessingProps) {
    super(scope, id);
    for (const { queue, spec } of props.queues.byName.values()) {
      props.functions.get(spec.consumer).addEventSource(
        new SqsEventSource(queue, {
          batchSize: spec.batchSize,
          maxBatchingWindow: Duration.seconds(spec.maxBatchingWindowSeconds),
          maxConcurrency: spec.maxConcurrency,
          reportBatchItemFailures: true,
        }),
      );
    }
  }
}
