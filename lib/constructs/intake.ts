import { Duration, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AUTHORIZER_CACHE_TTL_SECONDS } from '../../lambdas/settings/api';
import { routes } from '../topology';
import { SERVICE_NAME } from '../../lambdas/settings/observability';
import type { Functions } from './functions';
import { pascalCase } from './naming';

export interface ApiThrottle {
  /** Steady-state requests per second across the API. */
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export interface IntakeProps {
  readonly functions: Functions;
  readonly throttle: ApiThrottle;
  readonly logRetention: RetentionDays;
  /**
   * Turns off the API's default `execute-api` endpoint, when a front door (the rate limit's
   * CloudFront distribution) must be the only way in. @default false
   */
  readonly disableExecuteApiEndpoint?: boolean;
}

/** The HTTP API: every topology route, behind the API-key authorizer unless the route is public. */
export class Intake extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;

  constructor(scope: Construct, id: string, props: IntakeProps) {
    super(scope, id);

    // The stage is added by hand because HttpApi's own default stage takes neither throttling nor access logs.
    this.api = new HttpApi(this, 'HttpApi', {
      apiName: SERVICE_NAME,
      description: 'Herald: asynchronous requests and their status',
      createDefaultStage: false,
      disableExecuteApiEndpoint: props.disableExecuteApiEndpoint === true,
    });
    const accessLogGroup = new LogGroup(this, 'AccessLogGroup', { retention: props.logRetention });
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogGroup),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            routeKey: '$context.routeKey',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            sourceIp: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
          }),
        ),
      },
    });

    const authorizer = routes.some(route => route.authorized)
      ? new HttpLambdaAuthorizer('ApiKeyAuthorizer', props.functions.get('authorizer'), {
          responseTypes: [HttpLambdaResponseType.SIMPLE],
          identitySource: ['$request.header.Authorization'],
          resultsCacheTtl: Duration.seconds(AUTHORIZER_CACHE_TTL_SECONDS),
        })
      : undefined;

    for (const route of routes) {
      const [created] = this.api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: new HttpLambdaIntegration(`${pascalCase(route.function)}Integration`, props.functions.get(route.function), {
          payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
        }),
        ...(route.authorized && authorizer ? { authorizer } : {}),
      });
      if (!route.authorized && created) {
        const reason = `${route.method} ${route.path} is public by design in lib/topology.ts (e.g. a health check) and exposes no merchant data`;
        Validations.of(created).acknowledge({ id: 'AwsSolutions-APIG4', reason });
        Validations.of(created).acknowledge({ id: 'AwsSolutions-COG4', reason });
      }
    }
  }

  /** The base URL clients call; the `$default` stage serves at the API's root. */
  get url(): string {
    return this.stage.url;
  }
}
