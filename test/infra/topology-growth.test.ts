import { App, type CfnResource, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { HeraldStack } from '../../lib/herald-stack';

/**
 * The stack must render whatever lib/topology.ts describes. This grows the topology the way the
 * roadmap will (a deliveries queue with its own consumer that publishes notifications, and a public
 * route) and checks that it appears, least privilege holds and cdk-nag still passes, with no stack edit.
 */
jest.mock('../../lib/topology', () => {
  const actual = jest.requireActual('../../lib/topology');
  const deliver = {
    entry: actual.functions.process.entry,
    description: 'Consumes the deliveries queue: signs and posts webhooks',
    memoryMb: 256,
    timeoutSeconds: 30,
    grants: { table: 'readWrite', queues: { deliveries: 'consume' }, publishesTo: ['notifications'] },
  };
  return {
    ...actual,
    functions: { ...actual.functions, deliver },
    queues: {
      ...actual.queues,
      deliveries: {
        ...actual.queues.requests,
        consumer: 'deliver',
        visibilityTimeoutSeconds: 180,
        batchSize: 5,
        maxConcurrency: 20,
        deadLetter: { retentionDays: 14 },
        retry: { ...actual.queues.requests.retry, maxAttempts: 8 },
        slowLane: undefined,
      },
    },
    routes: [...actual.routes, { method: 'GET', path: '/health', function: 'status', authorized: false }],
  };
});

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new HeraldStack(app, 'Herald');
const template = Template.fromStack(stack);
const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
  Stack.of(stack).getLogicalId(construct.node.defaultChild as CfnResource);
const deliverId = logicalId(stack.functions.get('deliver' as never));
const deliverProperties = () => template.toJSON().Resources[deliverId].Properties;

it('adds a queue and a DLQ for a new queue entry', () => {
  // The requests queue, its DLQ and its slow lane, then the new queue and its DLQ.
  template.resourceCountIs('AWS::SQS::Queue', 5);
  template.hasResourceProperties('AWS::SQS::Queue', {
    VisibilityTimeout: 180,
    RedrivePolicy: Match.objectLike({ maxReceiveCount: 8 }),
  });
});

it('connects the new queue to its consumer with its batch settings', () => {
  template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
    FunctionName: { Ref: deliverId },
    BatchSize: 5,
    ScalingConfig: { MaximumConcurrency: 20 },
    FunctionResponseTypes: ['ReportBatchItemFailures'],
  });
});

it('names the new queue and the topic in the environment by the same pattern', () => {
  expect(deliverProperties().Environment.Variables).toMatchObject({
    HERALD_DELIVERIES_QUEUE_URL: { Ref: logicalId(stack.queues.get('deliveries' as never).queue) },
    HERALD_NOTIFICATIONS_TOPIC_ARN: { Ref: logicalId(stack.notifications.get('notifications')) },
  });
  expect(Object.keys(deliverProperties().Environment.Variables)).not.toContain('HERALD_REQUESTS_QUEUE_URL');
});

it('lets a publisher publish, and only to its topic', () => {
  const topicId = logicalId(stack.notifications.get('notifications'));
  template.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: {
      Statement: Match.arrayWith([Match.objectLike({ Action: 'sns:Publish', Resource: { Ref: topicId } })]),
    },
  });
});

it('serves a public route without the authorizer', () => {
  template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'GET /health', AuthorizationType: 'NONE' });
});

it('still passes the AWS Solutions checks', () => {
  const report = new AwsSolutionsChecks(app).validateScope(stack);
  expect(report.violations.map(v => `${v.ruleName} at ${v.violatingResources.map(r => r.constructPath)}`)).toEqual([]);
});
