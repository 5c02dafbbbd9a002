import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import { ApiMapping, DomainName, type HttpApi, type HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
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
import { merchantRateLimit, rateLimitProblem } from '../../lambdas/settings/api';
import { SERVICE_NAME } from '../../lambdas/settings/observability';

/**
 * The API's own custom domain, which the distribution calls once the `execute-api` endpoint is
 * off. Its DNS name must point at the stack output `ApiOriginDnsTarget` (a CNAME the operator
 * creates), and the certificate (ACM, us-east-1 like the stack) must cover it.
 */
export interface ApiOriginDomain {
  readonly domainName: string;
  readonly certificateArn: string;
}

export interface MerchantRateLimitProps {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  /** Where CloudFront reaches the API: its custom domain, the only way in once `execute-api` is disabled. */
  readonly origin: ApiOriginDomain;
  /** Requests per API key per `merchantRateLimit.windowSeconds`. */
  readonly limit: number;
}

/**
 * The per-merchant request limit on AWS: a CloudFront distribution in front of the HTTP API
 * (WAF cannot attach to an HTTP API) with a WAF web ACL whose rate-based rule counts requests per
 * API key in a window and answers 429 with `Retry-After` and the same problem document the local
 * gateway returns. WAF counts at the edge, so no Herald function makes an AWS call for it. A web
 * ACL for CloudFront lives in us-east-1, so the stack must be deployed there.
 *
 * The distribution must be the only way in: the stack disables the API's `execute-api` endpoint
 * and the distribution calls the API's own custom domain instead (an origin the WAF sits in front
 * of; a request straight to it still needs the domain's DNS name and is counted nowhere else, so
 * keep that name unpublished).
 */
export class MerchantRateLimit extends Construct {
  readonly distribution: Distribution;
  readonly webAcl: CfnWebACL;
  readonly originDomain: DomainName;

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
              // One bucket per key, not per spelling of the header: the scheme's case and the
              // whitespace before the key are folded away (a spelling the API refuses, such as two
              // spaces, then counts in the key's own bucket). Lower-casing the key itself merges
              // nothing in practice: keys are 256 random bits.
              customKeys: [
                {
                  header: {
                    name: 'authorization',
                    textTransformations: [
                      { priority: 0, type: 'COMPRESS_WHITE_SPACE' },
                      { priority: 1, type: 'LOWERCASE' },
                    ],
                  },
                },
              ],
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
    this.originDomain = new DomainName(this, 'OriginDomain', {
      domainName: props.origin.domainName,
      certificate: Certificate.fromCertificateArn(this, 'OriginCertificate', props.origin.certificateArn),
    });
    new ApiMapping(this, 'OriginMapping', { api: props.api, domainName: this.originDomain, stage: props.stage });
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Herald API behind the per-merchant rate limit',
      defaultBehavior: {
        // Host is not passed on (ALL_VIEWER_EXCEPT_HOST_HEADER): API Gateway picks the API by this name.
        origin: new HttpOrigin(props.origin.domainName, {
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
