import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { HeraldStack, type HeraldStackProps } from '../../lib/herald-stack';
import { merchantRateLimit } from '../../lib/topology';

const inUsEast1 = { env: { account: '123456789012', region: 'us-east-1' } };

function synth(props: HeraldStackProps) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new HeraldStack(app, 'Herald', props);
  return { app, stack, template: Template.fromStack(stack) };
}

const limited = synth({ ...inUsEast1, merchantRateLimit: 600 });
const resources = limited.template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
const webAcl = Object.values(resources).find((r) => r.Type === 'AWS::WAFv2::WebACL')!;

describe('the per-merchant rate limit on AWS (merchantRateLimit)', () => {
  it('counts requests per Authorization header in the topology window with a WAF rate-based rule', () => {
    expect(webAcl.Properties.Scope).toBe('CLOUDFRONT');
    expect(webAcl.Properties.Rules).toEqual([
      expect.objectContaining({
        Statement: {
          RateBasedStatement: {
            Limit: 600,
            EvaluationWindowSec: merchantRateLimit.windowSeconds,
            AggregateKeyType: 'CUSTOM_KEYS',
            CustomKeys: [{ Header: { Name: 'authorization', TextTransformations: [{ Priority: 0, Type: 'NONE' }] } }],
          },
        },
      }),
    ]);
  });

  it('answers 429 with Retry-After and a problem document', () => {
    const [rule] = webAcl.Properties.Rules;
    expect(rule.Action.Block.CustomResponse).toEqual({
      ResponseCode: 429,
      CustomResponseBodyKey: 'rateLimited',
      ResponseHeaders: [{ Name: 'Retry-After', Value: String(merchantRateLimit.windowSeconds) }],
    });
    expect(JSON.parse(webAcl.Properties.CustomResponseBodies.rateLimited.Content)).toMatchObject({ status: 429, title: 'Too many requests' });
  });

  it('puts the web ACL on a CloudFront distribution in front of the API, whose URL becomes ApiUrl', () => {
    const distribution = Object.values(resources).find((r) => r.Type === 'AWS::CloudFront::Distribution')!;
    expect(distribution.Properties.DistributionConfig.WebACLId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/WebAcl/), 'Arn'] });
    expect(limited.template.toJSON().Outputs.ApiUrl.Value).toEqual({
      'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [expect.stringMatching(/Distribution/), 'DomainName'] }]],
    });
  });

  it('adds nothing of the kind by default', () => {
    const plain = synth({});
    expect(Object.values(plain.template.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type)).not.toContain('AWS::WAFv2::WebACL');
  });

  it('refuses at synth a stack outside us-east-1 and a limit below WAF minimum', () => {
    expect(() => synth({ env: { region: 'eu-west-1' }, merchantRateLimit: 600 })).toThrow(/needs the stack in us-east-1/);
    expect(() => synth({ ...inUsEast1, merchantRateLimit: 5 })).toThrow(/at least 10/);
  });

  it('passes the AWS Solutions checks with the limit on', () => {
    const report = new AwsSolutionsChecks(limited.app).validateScope(limited.stack);
    expect(report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });
});
