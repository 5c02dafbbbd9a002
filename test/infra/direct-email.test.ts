import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { HeraldStack, type HeraldStackProps } from '../../lib/herald-stack';
import { functions, type FunctionName } from '../../lib/topology';
import { statementsOf, type Statement } from '../support/iam-statements';

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;

function synth(props: HeraldStackProps = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new HeraldStack(app, 'Herald', props);
  return { app, stack, resources: Template.fromStack(stack).toJSON().Resources as Resources };
}

const names = Object.keys(functions) as FunctionName[];
const sesStatements = (statements: Statement[]) => statements.filter((s) => [s.Action].flat().some((action) => action.startsWith('ses:')));
/** The identity's ARN as CloudFormation renders it: the partition, region and account of the stack's deployment. */
const identityArn = (identity: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ses:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:identity/${identity}`]],
});

describe('direct request email (stack prop emailSenderIdentity)', () => {
  it('grants ses:SendEmail on the identity alone, from its address alone, to the function that tells requesters and no other', () => {
    const { stack, resources } = synth({ emailSenderIdentity: 'notify@shop.example' });
    for (const name of names) {
      const ses = sesStatements(statementsOf(stack, resources, name));
      if (name === 'process') {
        expect(ses).toEqual([
          {
            Sid: 'SendRequestEmails',
            Effect: 'Allow',
            Action: 'ses:SendEmail',
            Resource: identityArn('notify@shop.example'),
            Condition: { StringEquals: { 'ses:FromAddress': 'notify@shop.example' } },
          },
        ]);
      } else {
        expect(ses).toEqual([]);
      }
    }
    const worker = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.HERALD_EMAIL_FROM_ADDRESS);
    expect(worker?.Properties.Environment.Variables.HERALD_EMAIL_FROM_ADDRESS).toBe('notify@shop.example');
  });

  it('with a domain identity, sends from the address named within it', () => {
    const { stack, resources } = synth({ emailSenderIdentity: 'shop.example', emailFromAddress: 'receipts@shop.example' });
    expect(sesStatements(statementsOf(stack, resources, 'process'))).toEqual([
      expect.objectContaining({ Resource: identityArn('shop.example'), Condition: { StringEquals: { 'ses:FromAddress': 'receipts@shop.example' } } }),
    ]);
  });

  it('grants no SES at all without the setting, and names no sender', () => {
    const { stack, resources } = synth();
    for (const name of names) expect(sesStatements(statementsOf(stack, resources, name))).toEqual([]);
    const senders = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.HERALD_EMAIL_FROM_ADDRESS);
    expect(senders).toEqual([]);
  });

  it.each([
    [{ emailSenderIdentity: 'shop.example' }, /set emailFromAddress/],
    [{ emailSenderIdentity: 'shop.example', emailFromAddress: 'x@other.example' }, /not within the identity shop.example/],
    [{ emailSenderIdentity: 'notify@shop.example', emailFromAddress: 'other@shop.example' }, /not within the identity/],
    [{ emailFromAddress: 'notify@shop.example' }, /needs emailSenderIdentity/],
    [{ emailSenderIdentity: 'not an identity' }, /must be an email address or a domain/],
  ] as const)('refuses %j at synth', (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  it('keeps the AWS Solutions checks clean with the grant', () => {
    const { app, stack } = synth({ alarmEmail: 'ops@example.com', emailSenderIdentity: 'notify@shop.example' });
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    expect(report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });
});
