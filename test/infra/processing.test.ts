import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { CfnQueue } from 'aws-cdk-lib/aws-sqs';
import { HeraldStack } from '../../lib/herald-stack';
import { queues } from '../../lib/topology';
import { type QueueName } from '../../lambdas/settings/retry';

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new HeraldStack(app, 'Herald');
const template = Template.fromStack(stack);
const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
  Stack.of(stack).getLogicalId(construct.node.defaultChild as CfnQueue | CfnFunction);

describe.each(Object.keys(queues) as QueueName[])('the event source of the %s queue', name => {
  const spec = queues[name];
  const mapping = () => {
    const found = template.findResources('AWS::Lambda::EventSourceMapping', {
      Properties: { EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.queues.get(name).queue), 'Arn'] } },
    });
    expect(Object.keys(found)).toHaveLength(1);
    return Object.values(found)[0]!.Properties as Record<string, unknown>;
  };

  it('invokes the consumer the topology names', () => {
    expect(mapping().FunctionName).toEqual({ Ref: logicalId(stack.functions.get(spec.consumer)) });
  });

  it('reports batch item failures so one bad message does not retry its whole batch', () => {
    expect(mapping().FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('takes the batch size and batching window of the topology', () => {
    expect(mapping().BatchSize).toBe(spec.batchSize);
    expect(mapping().MaximumBatchingWindowInSeconds).toBe(spec.maxBatchingWindowSeconds);
  });

  it('caps concurrent consumers at the maximum concurrency of the topology', () => {
    expect(mapping().ScalingConfig).toEqual({ MaximumConcurrency: spec.maxConcurrency });
  });
});

it('reports batch item failures on every event source', () => {
  const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
  expect(mappings.length).toBeGreaterThan(0);
  for (const mapping of mappings) expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
});
