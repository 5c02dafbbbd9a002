import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { CfnKey } from 'aws-cdk-lib/aws-kms';
import type { CfnTopic } from 'aws-cdk-lib/aws-sns';
import { HeraldStack } from '../../lib/herald-stack';
import { topics } from '../../lib/topology';

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new HeraldStack(app, 'Herald');
const template = Template.fromStack(stack);

const everyTopic = [
  ...Object.keys(topics).map(name => [name, stack.notifications.get(name as keyof typeof topics)] as const),
  ['alarms', stack.observability.alarmTopic] as const,
];

describe.each(everyTopic)('the %s topic', (_, topic) => {
  const topicId = Stack.of(stack).getLogicalId(topic.node.defaultChild as CfnTopic);
  const properties = () => template.toJSON().Resources[topicId].Properties as Record<string, unknown>;

  it('encrypts messages with a customer-managed key that rotates', () => {
    const keyRef = properties().KmsMasterKeyId as { 'Fn::GetAtt': [string, string] };
    const keyId = keyRef['Fn::GetAtt'][0];
    expect(template.toJSON().Resources[keyId]).toMatchObject({
      Type: 'AWS::KMS::Key',
      Properties: { EnableKeyRotation: true },
    });
    expect(keyId).toBe(Stack.of(stack).getLogicalId(topic.masterKey!.node.defaultChild as CfnKey));
  });

  it('denies publishing without TLS', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });
});

it('lets CloudWatch use the alarm topic key, without which alarms could not publish', () => {
  const keyId = Stack.of(stack).getLogicalId(stack.observability.alarmTopic.masterKey!.node.defaultChild as CfnKey);
  expect(template.toJSON().Resources[keyId].Properties.KeyPolicy.Statement).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      }),
    ]),
  );
});
