import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { CfnQueue } from 'aws-cdk-lib/aws-sqs';
import { HeraldStack } from '../../lib/herald-stack';
import { ENV } from '../../lambdas/settings/environment';
import { queues } from '../../lib/topology';

// Skipping bundling keeps these tests fast; such a template must never be deployed.
const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new HeraldStack(app, 'Herald', { workerConcurrency: { requests: 100 } });
const template = Template.fromStack(stack);
const resources = template.toJSON().Resources as Record<string, { Properties: Record<string, any> }>;
const idOf = (construct: { node: { defaultChild?: unknown } }) => Stack.of(stack).getLogicalId(construct.node.defaultChild as CfnQueue | CfnFunction);

const requests = stack.queues.get('requests');
const slowLaneId = idOf(requests.slowLane!);
const processId = idOf(stack.functions.get('process'));

describe('the requests queue\'s slow lane', () => {
  it('is a queue of its own with the requests queue\'s visibility, retention and DLQ after the same receive count', () => {
    const { Properties } = resources[slowLaneId]!;
    expect(Properties.VisibilityTimeout).toBe(queues.requests.visibilityTimeoutSeconds);
    expect(Properties.MessageRetentionPeriod).toBe(queues.requests.retentionDays * 86_400);
    expect(Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [idOf(requests.deadLetterQueue), 'Arn'] }, maxReceiveCount: queues.requests.retry.maxAttempts });
  });

  it('feeds the process function through a second event source capped at the slow lane\'s concurrency, whatever the main pool\'s', () => {
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping', { Properties: { EventSourceArn: { 'Fn::GetAtt': [slowLaneId, 'Arn'] } } }));
    expect(mappings).toHaveLength(1);
    expect(mappings[0]!.Properties).toMatchObject({
      FunctionName: { Ref: processId },
      BatchSize: queues.requests.batchSize,
      ScalingConfig: { MaximumConcurrency: 2 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('is known to the process function alone, which may send to it and consume from it', () => {
    const withSlowLane = Object.entries(resources).filter(([, r]) => r.Properties?.Environment?.Variables?.[ENV.requestsSlowLaneQueueUrl] !== undefined);
    expect(withSlowLane.map(([id]) => id)).toEqual([processId]);
    expect(withSlowLane[0]![1].Properties.Environment.Variables[ENV.requestsSlowLaneQueueUrl]).toEqual({ Ref: slowLaneId });
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((policy) => (policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]).map((s) => ({ ...s, roles: policy.Properties.Roles })))
      .filter((s) => JSON.stringify(s.Resource ?? null).includes(slowLaneId));
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage']));
    const roles = new Set(statements.flatMap((s) => s.roles).map((r: { Ref: string }) => r.Ref));
    expect(roles).toEqual(new Set([(resources[processId]!.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]]));
  });

  it('is given to no other queue', () => {
    expect(stack.queues.get('deliveries').slowLane).toBeUndefined();
  });
});
