import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { HeraldStack } from '../../lib/herald-stack';
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

  it('may only read the table', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      JSON.stringify(policy.Properties.Roles).includes('EventsRole'),
    );
    const actions = policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat()));
    expect(actions.some((action: string) => /dynamodb:(Put|Update|Delete|BatchWrite)/.test(action))).toBe(false);
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem']));
  });
});
