import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { HeraldStack, type HeraldStackProps } from '../../lib/herald-stack';
import { ENV } from '../../lambdas/settings/environment';
import { merchantRateLimit } from '../../lambdas/settings/api';

const inUsEast1 = { env: { account: '123456789012', region: 'us-east-1' } };

function synth(props: HeraldStackProps) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new HeraldStack(app, 'Herald', props);
  return { app, stack, template: Template.fromStack(stack) };
}

const apiOriginDomain = { domainName: 'api-origin.example.com', certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555' };
const limited = synth({ ...inUsEast1, merchantRateLimit: 600, apiOriginDomain });
const resources = limited.template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
const webAcl = Object.values(resources).find((r) => r.Type === 'AWS::WAFv2::WebACL')!;

describe('the per-merchant rate limit on AWS (merchantRateLimit)', () => {
  it('counts requests per API key, whatever the case of the scheme and the whitespace before the key, in the topology window', () => {
    expect(webAcl.Properties.Scope).toBe('CLOUDFRONT');
    expect(webAcl.Properties.Rules).toEqual([
      expect.objectContaining({
        Statement: {
          RateBasedStatement: {
            Limit: 600,
            EvaluationWindowSec: merchantRateLimit.windowSeconds,
            AggregateKeyType: 'CUSTOM_KEYS',
            CustomKeys: [
              {
                Header: {
                  Name: 'authorization',
                  TextTransformations: [
                    { Priority: 0, Type: 'COMPRESS_WHITE_SPACE' },
                    { Priority: 1, Type: 'LOWERCASE' },
                  ],
                },
              },
            ],
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

  it('disables the execute-api endpoint, so the distribution and its WAF are the only way in, and reaches the API through its own domain', () => {
    const api = Object.values(resources).find((r) => r.Type === 'AWS::ApiGatewayV2::Api')!;
    expect(api.Properties.DisableExecuteApiEndpoint).toBe(true);
    const domain = Object.values(resources).find((r) => r.Type === 'AWS::ApiGatewayV2::DomainName')!;
    expect(domain.Properties.DomainName).toBe('api-origin.example.com');
    expect(Object.values(resources).some((r) => r.Type === 'AWS::ApiGatewayV2::ApiMapping')).toBe(true);
    const distribution = Object.values(resources).find((r) => r.Type === 'AWS::CloudFront::Distribution')!;
    expect(distribution.Properties.DistributionConfig.Origins.map((o: { DomainName: unknown }) => o.DomainName)).toEqual(['api-origin.example.com']);
    expect(JSON.stringify(distribution.Properties.DistributionConfig.Origins)).not.toContain('execute-api');
  });

  it('builds statusUrl on the front door, not on the API host', () => {
    const outputs = limited.template.toJSON().Outputs;
    expect(outputs.PublicBaseUrl.Value).toEqual(outputs.ApiUrl.Value);
    const submit = Object.values(resources).find(
      (r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties.Description).startsWith('POST /v1/requests:'),
    )!;
    expect(submit.Properties.Environment.Variables[ENV.publicBaseUrl]).toEqual(outputs.ApiUrl.Value);
  });

  it('refuses at synth a limit without the API origin domain the distribution needs', () => {
    expect(() => synth({ ...inUsEast1, merchantRateLimit: 600 })).toThrow(/needs apiOriginDomain/);
  });

  it('adds nothing of the kind by default', () => {
    const plain = synth({});
    expect(Object.values(plain.template.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type)).not.toContain('AWS::WAFv2::WebACL');
  });

  it('refuses at synth a stack outside us-east-1 and a limit below WAF minimum', () => {
    expect(() => synth({ env: { region: 'eu-west-1' }, merchantRateLimit: 600, apiOriginDomain })).toThrow(/needs the stack in us-east-1/);
    expect(() => synth({ ...inUsEast1, merchantRateLimit: 5, apiOriginDomain })).toThrow(/at least 10/);
  });

  it('passes the AWS Solutions checks with the limit on', () => {
    const report = new AwsSolutionsChecks(limited.app).validateScope(limited.stack);
    expect(report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });
});
