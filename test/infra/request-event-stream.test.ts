import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { HeraldStack } from '../../lib/herald-stack';
import { keys } from '../../lambdas/adapters/dynamo/keys';
import { keyPartitions } from '../../lambdas/settings/storage';
import { routes } from '../../lib/topology';

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new HeraldStack(app, 'Herald');
const template = Template.fromStack(stack);
const eventsFunction = Stack.of(stack).getLogicalId(stack.functions.get('events').node.defaultChild as CfnFunction);

describe('the request event stream on AWS', () => {
  it('is a function URL that streams its response, since the HTTP API cannot', () => {
    template.hasResourceProperties('AWS::Lambda::Url', {
      TargetFunctionArn: { 'Fn::GetAtt': [eventsFunction, 'Arn'] },
      InvokeMode: 'RESPONSE_STREAM',
      // Merchants authenticate with their API key, which the handler checks.
      AuthType: 'NONE',
    });
  });

  it('is no route of the HTTP API', () => {
    expect(routes.some((route) => route.function === 'events')).toBe(false);
  });

  it('outputs its URL for clients', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.RequestEventsUrl?.Value).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^FunctionsEventsFunctionFunctionUrl/), 'FunctionUrl'] });
  });

  it('reads the table and writes nothing but its stream slot leases', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      JSON.stringify(policy.Properties.Roles).includes('EventsRole'),
    );
    const statements = policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Condition?: unknown }[]);
    const writes = statements.filter((statement) => [statement.Action].flat().some((action) => /dynamodb:(Put|Update|Delete|BatchWrite)/.test(action)));
    expect(writes).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${keyPartitions.eventStreamSlots}*`] } },
      }),
    ]);
    expect(keys.eventStreamSlot('mer_1', 0).pk.startsWith(keyPartitions.eventStreamSlots)).toBe(true);
    expect(statements.flatMap((statement) => [statement.Action].flat())).toEqual(expect.arrayContaining(['dynamodb:GetItem']));
  });

  it('has reserved concurrency, so streams cannot use up the account\'s', () => {
    const fn = template.toJSON().Resources[eventsFunction];
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(50);
    const other = new HeraldStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Other', { eventStreamConcurrency: 20 });
    const otherId = Stack.of(other).getLogicalId(other.functions.get('events').node.defaultChild as CfnFunction);
    expect(Template.fromStack(other).toJSON().Resources[otherId].Properties.ReservedConcurrentExecutions).toBe(20);
  });
});
