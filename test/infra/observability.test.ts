import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { CfnTopic } from 'aws-cdk-lib/aws-sns';
import type { CfnQueue } from 'aws-cdk-lib/aws-sqs';
import { HeraldStack } from '../../lib/herald-stack';
import { functions, queues, topics, type FunctionName } from '../../lib/topology';
import { METRICS, METRICS_NAMESPACE } from '../../lambdas/settings/observability';
import { type QueueName } from '../../lambdas/settings/retry';

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new HeraldStack(app, 'Herald', { alarmEmail: 'ops@example.com' });
const template = Template.fromStack(stack);
const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
  Stack.of(stack).getLogicalId(construct.node.defaultChild as CfnQueue | CfnFunction | CfnTopic);
const alarmTopicRef = { Ref: logicalId(stack.observability.alarmTopic) };

const alarmOn = (metricName: string, dimensions: object, threshold: number) =>
  template.hasResourceProperties('AWS::CloudWatch::Alarm', {
    MetricName: metricName,
    Dimensions: [dimensions],
    ComparisonOperator: 'GreaterThanThreshold',
    Threshold: threshold,
    AlarmActions: [alarmTopicRef],
    OKActions: [alarmTopicRef],
  });

describe.each(Object.keys(queues) as QueueName[])('the %s queue', name => {
  const { queue, deadLetterQueue } = stack.queues.get(name);

  it('raises an alarm as soon as its DLQ holds a message', () => {
    alarmOn(
      'ApproximateNumberOfMessagesVisible',
      { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(deadLetterQueue), 'QueueName'] } },
      0,
    );
  });

  it('raises an alarm when its oldest message waits longer than 15 minutes', () => {
    alarmOn(
      'ApproximateAgeOfOldestMessage',
      { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(queue), 'QueueName'] } },
      900,
    );
  });
});

it('raises an alarm when the requests slow lane\'s oldest message waits longer than 15 minutes, as its main queue does', () => {
  const { slowLane } = stack.queues.get('requests');
  expect(slowLane).toBeDefined();
  alarmOn('ApproximateAgeOfOldestMessage', { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(slowLane!), 'QueueName'] } }, 900);
});

it.each(Object.keys(functions) as FunctionName[])('raises an alarm when the %s function fails', name => {
  alarmOn('Errors', { Name: 'FunctionName', Value: { Ref: logicalId(stack.functions.get(name)) } }, 0);
});

it('raises an alarm when the API answers 5xx', () => {
  alarmOn('5xx', { Name: 'ApiId', Value: { Ref: logicalId(stack.intake.api) } }, 0);
});

it('treats missing data as healthy, since an idle queue or function is not failing', () => {
  for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
    expect(alarm.Properties.TreatMissingData).toBe('notBreaching');
  }
});

it('emails alarms to the operator address it is given', () => {
  template.hasResourceProperties('AWS::SNS::Subscription', {
    Protocol: 'email',
    Endpoint: 'ops@example.com',
    TopicArn: alarmTopicRef,
  });
});

it('subscribes nobody when no address is given', () => {
  const quiet = Template.fromStack(new HeraldStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Herald'));
  quiet.resourceCountIs('AWS::SNS::Subscription', 0);
});

it('has a dashboard showing throughput, errors and DLQ depth', () => {
  const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]!;
  const body = JSON.stringify(dashboard.Properties.DashboardBody);
  for (const title of [
    'API requests and errors',
    'Function errors and throttles',
    'Queue throughput',
    'Dead-letter queue depth',
    'Requests',
    'Webhook deliveries',
    'Service metrics (Powertools)',
    'Recent errors',
  ]) {
    expect(body).toContain(title);
  }
});

it.each(Object.values(METRICS))('graphs the %s metric the handlers count, by its name', (metricName) => {
  const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]!;
  expect(JSON.stringify(dashboard.Properties.DashboardBody)).toContain(`\\"${METRICS_NAMESPACE}\\",\\"${metricName}\\"`);
});

it.each([
  'ApiUrl',
  'TableName',
  ...Object.keys(queues).flatMap(name => {
    const pascal = name.charAt(0).toUpperCase() + name.slice(1);
    return [`${pascal}QueueUrl`, `${pascal}DeadLetterQueueUrl`];
  }),
  'RequestsSlowLaneQueueUrl',
  ...Object.keys(topics).map(name => `${name.charAt(0).toUpperCase() + name.slice(1)}TopicArn`),
  'AlarmTopicArn',
  'DashboardUrl',
])('outputs %s', output => {
  template.hasOutput(output, { Value: Match.anyValue() });
});
