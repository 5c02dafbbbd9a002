import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { queueUrlVariable, topicArnVariable } from '../../lib/constructs/functions';
import { HeraldStack } from '../../lib/herald-stack';
import { statementsOf as statementsIn, type Statement } from '../support/iam-statements';
import { ENV } from '../../lambdas/settings/environment';
import { functions, queues, type FunctionName } from '../../lib/topology';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lambdas/settings/observability';

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new HeraldStack(app, 'Herald', { allowedWebhookHosts: 'hooks.example.com', requestRetentionDays: 45 });
const template = Template.fromStack(stack);
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;

const functionProperties = (name: FunctionName) =>
  resources[Stack.of(stack).getLogicalId(stack.functions.get(name).node.defaultChild as CfnFunction)]!.Properties;

const statementsOf = (name: FunctionName): Statement[] => statementsIn(stack, resources, name);
const actionsOf = (name: FunctionName) =>
  statementsOf(name).flatMap(statement => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]));

const names = Object.keys(functions) as FunctionName[];
const tableRef = { 'Fn::GetAtt': [Stack.of(stack).getLogicalId(stack.storage.table.node.defaultChild as CfnTable), 'Arn'] };

describe.each(names)('the %s function', name => {
  const spec = functions[name];

  it('runs on Node.js 24 on arm64', () => {
    expect(functionProperties(name)).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'] });
  });

  it('takes the memory and timeout of the topology', () => {
    expect(functionProperties(name)).toMatchObject({ MemorySize: spec.memoryMb, Timeout: spec.timeoutSeconds });
  });

  it('leaves X-Ray active tracing to the operator, and logs JSON without Lambda\'s own INFO lines', () => {
    expect(functionProperties(name).TracingConfig).toBeUndefined();
    expect(functionProperties(name).LoggingConfig).toMatchObject({ LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'WARN' });
  });

  it('traces with X-Ray when the operator turns tracing on, at the log level chosen', () => {
    const traced = new HeraldStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Traced', { tracing: true, logLevel: 'DEBUG' });
    const cfn = traced.functions.get(name).node.defaultChild as CfnFunction;
    const properties = Template.fromStack(traced).toJSON().Resources[Stack.of(traced).getLogicalId(cfn)].Properties;
    expect(properties.TracingConfig).toEqual({ Mode: 'Active' });
    expect(properties.LoggingConfig).toMatchObject({ ApplicationLogLevel: 'DEBUG', SystemLogLevel: 'WARN' });
  });

  it('logs to its own log group with a retention', () => {
    const logGroupRef = functionProperties(name).LoggingConfig.LogGroup as { Ref: string };
    expect(resources[logGroupRef.Ref]).toMatchObject({
      Type: 'AWS::Logs::LogGroup',
      Properties: { RetentionInDays: 30 },
    });
  });

  it('configures Powertools and source maps', () => {
    expect(functionProperties(name).Environment.Variables).toMatchObject({
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
    });
  });

  it('receives the operator settings', () => {
    expect(functionProperties(name).Environment.Variables).toMatchObject({
      [ENV.retryScale]: '1',
      [ENV.requestRetentionDays]: '45',
      HERALD_ALLOWED_WEBHOOK_HOSTS: 'hooks.example.com',
    });
  });

  it('is told the names of exactly the resources it may use', () => {
    const variables = functionProperties(name).Environment.Variables as Record<string, unknown>;
    const resourceVariables = Object.keys(variables).filter(
      key => key === ENV.tableName || key.endsWith('_QUEUE_URL') || key.endsWith('_TOPIC_ARN'),
    );
    const expected = [
      ...(spec.grants.table ? [ENV.tableName] : []),
      ...Object.keys(spec.grants.queues ?? {}).map(queueUrlVariable),
      // A queue's consumer also learns its slow lane, which it sends to and consumes.
      ...Object.entries(spec.grants.queues ?? {})
        .filter(([queue, access]) => access !== 'send' && queues[queue as keyof typeof queues].slowLane)
        .map(([queue]) => queueUrlVariable(`${queue}SlowLane`)),
      ...[...new Set([...(spec.grants.publishesTo ?? []), ...(spec.grants.managesSubscriptionsOf ?? [])])].map(topicArnVariable),
    ];
    expect(resourceVariables.sort()).toEqual(expected.sort());
  });

  it('has no managed policy, so nothing beyond its grants', () => {
    const roleId = Stack.of(stack).getLogicalId(stack.functions.get(name).role!.node.defaultChild as CfnRole);
    expect(resources[roleId]!.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('may only touch the services its grants name', () => {
    const services = new Set(actionsOf(name).map(action => action.split(':')[0]));
    const allowed = new Set(['logs', 'xray']);
    if (spec.grants.table) allowed.add('dynamodb');
    if (spec.grants.queues) allowed.add('sqs');
    if (spec.grants.publishesTo?.length) ['sns', 'kms'].forEach(service => allowed.add(service));
    if (spec.grants.managesSubscriptionsOf?.length || spec.grants.sendsSms) allowed.add('sns');
    if (spec.grants.bodies) allowed.add('s3');
    for (const service of services) expect(allowed).toContain(service);
  });

  it('writes to the table only with a readWrite grant, or only put and delete under the key prefixes it names', () => {
    const writes = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
    const granted = [...new Set(actionsOf(name).filter(action => writes.includes(action)))];
    if (spec.grants.table === 'readWrite') expect(granted.sort()).toEqual([...writes].sort());
    else if (spec.grants.tableWritesUnder?.length) {
      const scoped = statementsOf(name).filter(s => [s.Action].flat().some(action => writes.includes(action)));
      expect(scoped.map(s => (s as { Condition?: unknown }).Condition)).toEqual([
        { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': spec.grants.tableWritesUnder.map(prefix => `${prefix}*`) } },
      ]);
      expect(granted.sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:PutItem']);
    } else if (spec.grants.countsWaitingCalls) expect(granted).toEqual(['dynamodb:UpdateItem']);
    else expect(granted).toEqual([]);
  });

  it('sends to a queue only with a send grant', () => {
    const sends = Object.values(spec.grants.queues ?? {}).some(access => access.startsWith('send'));
    expect(actionsOf(name).includes('sqs:SendMessage')).toBe(sends);
  });

  it('deletes messages and changes their visibility only as a consumer', () => {
    const consumes = Object.values(spec.grants.queues ?? {}).some(access => access.toLowerCase().includes('consume'));
    const actions = actionsOf(name);
    expect(actions.includes('sqs:DeleteMessage')).toBe(consumes);
    expect(actions.includes('sqs:ChangeMessageVisibility')).toBe(consumes);
  });

  it('publishes to SNS only if the topology lets it', () => {
    expect(actionsOf(name).includes('sns:Publish')).toBe(Boolean(spec.grants.publishesTo?.length || spec.grants.sendsSms));
  });
});

it('lets the status function read the table, and write nothing but the calls attribute of merchant items', () => {
  // Results kept in the bodies bucket are read there (test/infra/security.test.ts holds those grants).
  const dataStatements = statementsOf('status').filter(s => ![s.Action].flat().every(a => /^(logs|xray|s3):/.test(a)));
  const [waiting, ...others] = [
    ...dataStatements.filter(s => [s.Action].flat().includes('dynamodb:UpdateItem')),
    ...dataStatements.filter(s => ![s.Action].flat().includes('dynamodb:UpdateItem')),
  ];
  expect(waiting!.Action).toBe('dynamodb:UpdateItem');
  expect(waiting!.Condition).toEqual({
    'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['MER#*'] },
    'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['pk', 'sk', 'calls'] },
  });
  for (const statement of others) {
    expect([statement.Action].flat().every(action => action.startsWith('dynamodb:'))).toBe(true);
    expect(statement.Resource).toEqual([tableRef, { 'Fn::Join': ['', [tableRef, '/index/*']] }]);
  }
  expect(actionsOf('status')).not.toContain('sqs:SendMessage');
  expect(actionsOf('status')).not.toContain('dynamodb:PutItem');
});

it('lets the authorizer only read', () => {
  const actions = actionsOf('authorizer').filter(action => !/^(logs|xray):/.test(action));
  expect(actions.every(action => /^dynamodb:(BatchGet|Get|Query|Scan|ConditionCheck|Describe)/.test(action))).toBe(true);
});
