import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { HeraldStack } from '../../lib/herald-stack';
import { AUTHORIZER_CACHE_TTL_SECONDS } from '../../lambdas/settings/api';
import { routes } from '../../lib/topology';

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new HeraldStack(app, 'Herald', { throttle: { rateLimit: 25, burstLimit: 40 } });
const template = Template.fromStack(stack);
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
const functionArn = (name: (typeof routes)[number]['function']) => ({
  'Fn::GetAtt': [Stack.of(stack).getLogicalId(stack.functions.get(name).node.defaultChild as CfnFunction), 'Arn'],
});

describe.each(routes.map(route => [`${route.method} ${route.path}`, route] as const))('the route %s', (routeKey, route) => {
  const routeProperties = () => {
    const found = Object.values(resources).filter(
      r => r.Type === 'AWS::ApiGatewayV2::Route' && r.Properties.RouteKey === routeKey,
    );
    expect(found).toHaveLength(1);
    return found[0]!.Properties;
  };

  it('proxies to its function with payload format 2.0', () => {
    const integrationId = (routeProperties().Target['Fn::Join'][1][1] as { Ref: string }).Ref;
    expect(resources[integrationId]!.Properties).toMatchObject({
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: functionArn(route.function),
      PayloadFormatVersion: '2.0',
    });
  });

  it(route.authorized ? 'requires the API-key authorizer' : 'is public', () => {
    if (route.authorized) {
      expect(routeProperties()).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: expect.any(String) } });
    } else {
      expect(routeProperties().AuthorizationType).toBe('NONE');
    }
  });
});

it('authorizes with the authorizer function, simple responses and the Authorization header', () => {
  template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
    AuthorizerType: 'REQUEST',
    AuthorizerPayloadFormatVersion: '2.0',
    EnableSimpleResponses: true,
    IdentitySource: ['$request.header.Authorization'],
    AuthorizerUri: Match.objectLike({
      'Fn::Join': ['', Match.arrayWith([functionArn('authorizer')])],
    }),
  });
});

it('caches authorizer decisions for the TTL of the topology', () => {
  template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
    AuthorizerResultTtlInSeconds: AUTHORIZER_CACHE_TTL_SECONDS,
  });
});

it('throttles the default stage at the rate and burst it is given', () => {
  template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
    StageName: '$default',
    AutoDeploy: true,
    DefaultRouteSettings: { ThrottlingRateLimit: 25, ThrottlingBurstLimit: 40 },
  });
});

it('throttles at 50 requests per second with bursts of 100 by default', () => {
  const defaults = Template.fromStack(
    new HeraldStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Herald'),
  );
  defaults.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
    DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
  });
});

it('writes access logs with the request id to a log group', () => {
  const stage = Object.values(resources).find(r => r.Type === 'AWS::ApiGatewayV2::Stage')!;
  const logGroupId = stage.Properties.AccessLogSettings.DestinationArn['Fn::GetAtt'][0] as string;
  expect(resources[logGroupId]!.Type).toBe('AWS::Logs::LogGroup');
  expect(JSON.parse(stage.Properties.AccessLogSettings.Format)).toMatchObject({ requestId: '$context.requestId' });
});

it('lets API Gateway invoke each route function and the authorizer', () => {
  const invoked = new Set([...routes.map(route => route.function), 'authorizer' as const]);
  for (const name of invoked) {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
      FunctionName: functionArn(name),
    });
  }
});
