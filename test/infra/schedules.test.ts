import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { HeraldStack } from '../../lib/herald-stack';
import { schedules } from '../../lib/topology';

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new HeraldStack(app, 'Herald');
const template = Template.fromStack(stack);
const functionId = (name: string) =>
  Stack.of(stack).getLogicalId(stack.functions.get(name as never).node.defaultChild as CfnFunction);

it('has one rule per schedule of the topology', () => {
  template.resourceCountIs('AWS::Events::Rule', Object.keys(schedules).length);
});

describe.each(Object.entries(schedules))('the %s schedule', (_, spec) => {
  const rule = () => {
    const found = Object.values(template.findResources('AWS::Events::Rule')).filter((r) =>
      JSON.stringify(r.Properties.Targets).includes(functionId(spec.function)),
    );
    expect(found).toHaveLength(1);
    return found[0]!.Properties;
  };

  it('runs at the rate the topology gives', () => {
    const unit = spec.everyMinutes === 1 ? 'minute' : 'minutes';
    expect(rule().ScheduleExpression).toBe(`rate(${spec.everyMinutes} ${unit})`);
  });

  it('invokes its function, and EventBridge may invoke it', () => {
    expect(rule().Targets[0].Arn).toEqual({ 'Fn::GetAtt': [functionId(spec.function), 'Arn'] });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [functionId(spec.function), 'Arn'] },
    });
  });

  it('does not retry a missed run for longer than its period', () => {
    expect(rule().Targets[0].RetryPolicy).toEqual({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: Math.max(spec.everyMinutes, 1) * 60 });
  });
});
