import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  AllowedMethods,
  CachePolicy,
  CacheHeaderBehavior,
  CacheQueryStringBehavior,
  CacheCookieBehavior,
  Distribution,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  PriceClass,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { CfnWebACL } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { merchantRateLimit, rateLimitProblem, SERVICE_NAME } from '../topology';

export interface MerchantRateLimitProps {
  readonly api: HttpApi;
  /** Requests per API key per `merchantRateLimit.windowSeconds`. */
  readonly limit: number;
}

/**
 * The per-merchant request limit on AWS: a CloudFront distribution in front of the HTTP API
 * (WAF cannot attach to an HTTP API) with a WAF web ACL whose rate-based rule counts requests per
 * `Authorization` header in a window and answers 429 with `Retry-After` and the same problem
 * document the local gateway returns. WAF counts at the edge, so no Herald function makes an AWS
 * call for it. A web ACL for CloudFront lives in us-east-1, so the stack must be deployed there.
 */
export class MerchantRateLimit extends Construct {
  readonly distribution: Distribution;
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: MerchantRateLimitProps) {
    super(scope, id);
    const { windowSeconds, minimum } = merchantRateLimit;
    if (!Number.isInteger(props.limit) || props.limit < minimum) {
      throw new RangeError(`merchantRateLimit must be a whole number of at least ${minimum} (WAF's smallest rate limit), got ${props.limit}`);
    }
    const region = Stack.of(this).region;
    if (Token.isUnresolved(region) || region !== 'us-east-1') {
      throw new Error('merchantRateLimit needs the stack in us-east-1: a WAF web ACL for CloudFront can only be created there (set CDK_DEFAULT_REGION=us-east-1)');
    }

    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'CLOUDFRONT',
      defaultAction: { allow: {} },
      visibilityConfig: metrics(`${SERVICE_NAME}-api`),
      customResponseBodies: {
        rateLimited: { contentType: 'APPLICATION_JSON', content: JSON.stringify(rateLimitProblem(props.limit, windowSeconds)) },
      },
      rules: [
        {
          name: 'RequestsPerApiKey',
          priority: 0,
          statement: {
            rateBasedStatement: {
              limit: props.limit,
              evaluationWindowSec: windowSeconds,
              aggregateKeyType: 'CUSTOM_KEYS',
              customKeys: [{ header: { name: 'authorization', textTransformations: [{ priority: 0, type: 'NONE' }] } }],
            },
          },
          action: {
            block: {
              customResponse: {
                responseCode: 429,
                customResponseBodyKey: 'rateLimited',
                // WAF cannot compute the rest of a window; a whole window is the longest a client must wait.
                responseHeaders: [{ name: 'Retry-After', value: String(windowSeconds) }],
              },
            },
          },
          visibilityConfig: metrics(`${SERVICE_NAME}-requests-per-api-key`),
        },
      ],
    });

    // Responses are never cached: the default TTL is 0 and Herald sends no Cache-Control. The
    // Authorization header must sit in a cache policy to reach the origin at all.
    const passThrough = new CachePolicy(this, 'PassThrough', {
      defaultTtl: Duration.seconds(0),
      minTtl: Duration.seconds(0),
      maxTtl: Duration.seconds(1),
      headerBehavior: CacheHeaderBehavior.allowList('Authorization'),
      queryStringBehavior: CacheQueryStringBehavior.all(),
      cookieBehavior: CacheCookieBehavior.none(),
    });
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Herald API behind the per-merchant rate limit',
      defaultBehavior: {
        origin: new HttpOrigin(`${props.api.apiId}.execute-api.${region}.${Stack.of(this).urlSuffix}`, {
          protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
        }),
        allowedMethods: AllowedMethods.ALLOW_ALL,
        viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
        cachePolicy: passThrough,
        originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      },
      priceClass: PriceClass.PRICE_CLASS_100,
      webAclId: this.webAcl.attrArn,
    });
    const acknowledge = (id: string, reason: string) => Validations.of(this.distribution).acknowledge({ id, reason });
    acknowledge('AwsSolutions-CFR1', 'Merchants call the API from anywhere; a geo restriction would refuse some of them for no security gain');
    acknowledge('AwsSolutions-CFR3', "Every request reaching the API is logged by the HTTP API stage's JSON access log; WAF's sampled requests show the ones it blocked");
    acknowledge('AwsSolutions-CFR4', "The distribution's default cloudfront.net certificate cannot pin a minimum TLS version; set a custom domain and certificate to raise it");
  }

  get url(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }
}

function metrics(name: string): CfnWebACL.VisibilityConfigProperty {
  return { cloudWatchMetricsEnabled: true, metricName: name, sampledRequestsEnabled: true };
}
