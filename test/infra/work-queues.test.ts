import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { CfnQueue } from 'aws-cdk-lib/aws-sqs';
import { HeraldStack } from '../../lib/herald-stack';
import { queues } from '../../lib/topology';

// Skipping bundling keeps these tests fast; such a template must never be deployed.
const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new HeraldStack(app, 'Herald');
const template = Template.fromStack(stack);

const logicalIdOf = (queue: { node: { defaultChild?: unknown } }) =>
  Stack.of(stack).getLogicalId(queue.node.defaultChild as CfnQueue);

describe.each(Object.entries(queues))('the %s queue', name => {
  const workQueue = stack.queues.get(name as keyof typeof queues);
  const spec = queues[name as keyof typeof queues];
  const queueId = logicalIdOf(workQueue.queue);
  const deadLetterQueueId = logicalIdOf(workQueue.deadLetterQueue);
  const resource = (id: string) => template.toJSON().Resources[id] as { Properties: Record<string, unknown> };

  it('dead-letters a message after the receive count of the topology', () => {
    expect(resource(queueId).Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [deadLetterQueueId, 'Arn'] },
      maxReceiveCount: spec.retry.maxAttempts,
    });
  });

  it('keeps a message invisible for the visibility timeout of the topology', () => {
    expect(resource(queueId).Properties.VisibilityTimeout).toBe(spec.visibilityTimeoutSeconds);
  });

  it('retains messages and dead letters as long as the topology says', () => {
    expect(resource(queueId).Properties.MessageRetentionPeriod).toBe(spec.retentionDays * 86_400);
    expect(resource(deadLetterQueueId).Properties.MessageRetentionPeriod).toBe(spec.deadLetter.retentionDays * 86_400);
  });

  it('encrypts the queue and its DLQ at rest with SQS-managed keys', () => {
    expect(resource(queueId).Properties.SqsManagedSseEnabled).toBe(true);
    expect(resource(deadLetterQueueId).Properties.SqsManagedSseEnabled).toBe(true);
  });

  it.each([
    ['queue', queueId],
    ['DLQ', deadLetterQueueId],
  ])('denies requests without TLS to the %s', (_, id) => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: id }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });
});

it('has no queue outside the topology: one queue and one DLQ per entry, and a slow lane where the entry has one', () => {
  const slowLanes = Object.values(queues).filter((spec) => spec.slowLane !== undefined).length;
  template.resourceCountIs('AWS::SQS::Queue', Object.keys(queues).length * 2 + slowLanes);
});
