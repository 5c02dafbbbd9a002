import { Duration } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { functions, queues, type QueueSpec } from '../topology';
import { type QueueName } from '../../lambdas/settings/retry';
import { type RetrySchedule } from '../../lambdas/core/shared/retry-schedule';
import { pascalCase } from './naming';

/** A work queue and the dead-letter queue that keeps what it could not deliver. */
export interface WorkQueue {
  readonly name: QueueName;
  /** The topology's spec with the deployed retry schedule and maxReceiveCount. */
  readonly spec: QueueSpec;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  /** The queue's slow lane, where the topology gives it one: its own event source, the same DLQ. */
  readonly slowLane?: Queue;
}

export interface WorkQueuesProps {
  /**
   * The retry schedules the consumers run, where an operator changed them: a queue's
   * maxReceiveCount is its schedule's attempts, or SQS would dead-letter before (or after) the
   * worker's last attempt. Queues without one keep the topology's count.
   */
  readonly retrySchedules?: Partial<Record<QueueName, RetrySchedule>>;
}

/** Every queue of the topology, each with its own DLQ; SQS-managed encryption and TLS-only access. */
export class WorkQueues extends Construct {
  readonly byName: ReadonlyMap<QueueName, WorkQueue>;

  constructor(scope: Construct, id: string, props: WorkQueuesProps = {}) {
    super(scope, id);
    const byName = new Map<QueueName, WorkQueue>();

    for (const [name, topologySpec] of Object.entries(queues) as [QueueName, QueueSpec][]) {
      const retry = props.retrySchedules?.[name];
      const spec: QueueSpec = retry
        ? { ...topologySpec, retry }
        : topologySpec;
      const consumerTimeout = functions[spec.consumer].timeoutSeconds;
      if (spec.visibilityTimeoutSeconds < consumerTimeout) {
        throw new Error(
          `Queue ${name}: visibility timeout ${spec.visibilityTimeoutSeconds}s is shorter than its consumer's ` +
            `timeout ${consumerTimeout}s, so messages would be redelivered while still being processed`,
        );
      }
      const baseId = pascalCase(name);
      const deadLetterQueue = new Queue(this, `${baseId}DeadLetterQueue`, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(spec.deadLetter.retentionDays),
      });
      const queue = new Queue(this, `${baseId}Queue`, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
        retentionPeriod: Duration.days(spec.retentionDays),
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: spec.retry.maxAttempts },
      });
      const slowLane = spec.slowLane
        ? new Queue(this, `${baseId}SlowLaneQueue`, {
            encryption: QueueEncryption.SQS_MANAGED,
            enforceSSL: true,
            visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
            retentionPeriod: Duration.days(spec.retentionDays),
            // One DLQ for both lanes: a redrive sends the message back to the main queue, whose consumer decides its lane again.
            deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: spec.retry.maxAttempts },
          })
        : undefined;
      byName.set(name, { name, spec, queue, deadLetterQueue, ...(slowLane ? { slowLane } : {}) });
    }
    this.byName = byName;
  }

  get(name: QueueName): WorkQueue {
    const workQueue = this.byName.get(name);
    if (!workQueue) throw new Error(`Queue ${name} is not in the topology`);
    return workQueue;
  }
}
