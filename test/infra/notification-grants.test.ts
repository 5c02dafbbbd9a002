import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnTopic } from 'aws-cdk-lib/aws-sns';
import { SMS_PUBLISH_SID } from '../../lib/constructs/nag-acknowledgements';
import { HeraldStack } from '../../lib/herald-stack';
import { statementsOf as statementsIn, type Statement } from '../support/iam-statements';
import { functions, type FunctionName } from '../../lib/topology';

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new HeraldStack(app, 'Herald');
const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
const topicId = Stack.of(stack).getLogicalId(stack.notifications.get('notifications').node.defaultChild as CfnTopic);

const statementsOf = (name: FunctionName): Statement[] => statementsIn(stack, resources, name);
const actions = (statement: Statement) => [statement.Action].flat();
const names = Object.keys(functions) as FunctionName[];

it('lets only functions granted sendsSms publish SMS to any phone number', () => {
  for (const name of names) {
    const sms = statementsOf(name).filter(s => s.Resource === '*' && actions(s).includes('sns:Publish'));
    if (functions[name].grants.sendsSms) expect(sms).toEqual([{ Sid: SMS_PUBLISH_SID, Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }]);
    else expect(sms).toEqual([]);
  }
  expect(names.filter(name => functions[name].grants.sendsSms)).toEqual(['process']);
});

it('lets the worker and the notifications route subscribe to the topic, and change only its subscriptions', () => {
  for (const name of ['process', 'notifications'] as const) {
    const statements = statementsOf(name);
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: 'sns:Subscribe', Resource: { Ref: topicId }, Condition: { StringEquals: { 'sns:Protocol': ['email', 'sms'] } } }),
    );
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'sns:ListSubscriptionsByTopic', Resource: { Ref: topicId } }));
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['sns:GetSubscriptionAttributes', 'sns:SetSubscriptionAttributes', 'sns:Unsubscribe'],
        Resource: { 'Fn::Join': ['', [{ Ref: topicId }, ':*']] },
      }),
    );
  }
});

it('does not let the notifications route publish', () => {
  expect(statementsOf('notifications').flatMap(actions)).not.toContain('sns:Publish');
});
