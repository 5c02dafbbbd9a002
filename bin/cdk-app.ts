import { App, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { defaultThrottle, HeraldStack, type HeraldStackProps } from '../lib/herald-stack';
import { parseRetryDelays, type RetryOverride } from '../lambdas/core/shared/retry-schedule';
import { queues } from '../lib/topology';
import { type QueueName } from '../lambdas/settings/retry';

const QUEUE_NAMES = Object.keys(queues) as QueueName[];

/**
 * The CDK app. Operators choose per deployment through context, e.g.
 * `cdk deploy -c alarmEmail=ops@example.com -c allowedWebhookHosts=hooks.example.com -c smsAllowedCountries=US,CA`.
 * Context given on the command line arrives as strings, so numbers are parsed here.
 */
const app = new App();
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return value === undefined || value === null || value === '' ? undefined : String(value);
};
const numberContext = (key: string): number | undefined => {
  const value = context(key);
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`Context ${key} must be a positive number, got ${value}`);
  return parsed;
};
const retentionContext = (key: string): RetentionDays | undefined => {
  const days = numberContext(key);
  if (days === undefined) return undefined;
  if (!(Object.values(RetentionDays) as unknown[]).includes(days)) {
    throw new Error(`Context ${key} must be a retention CloudWatch Logs offers (1, 3, 5, 7, 14, 30, 60, 90, …), got ${days}`);
  }
  return days as RetentionDays;
};
const logLevels = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
const logLevelContext = (key: string): HeraldStackProps['logLevel'] => {
  const level = context(key)?.toUpperCase();
  if (level === undefined) return undefined;
  if (!(logLevels as readonly string[]).includes(level)) {
    throw new Error(`Context ${key} must be one of ${logLevels.join(', ')}, got ${level}`);
  }
  return level as HeraldStackProps['logLevel'];
};

/** `<prefix>RetryDelays` (comma-separated seconds) and `<prefix>MaxAttempts`; the stack checks the values. */
const retryContext = (prefix: string): RetryOverride | undefined => {
  const delays = context(`${prefix}RetryDelays`);
  const maxAttempts = numberContext(`${prefix}MaxAttempts`);
  if (delays === undefined && maxAttempts === undefined) return undefined;
  return { ...(delays !== undefined ? { delaysSeconds: parseRetryDelays(delays) } : {}), ...(maxAttempts !== undefined ? { maxAttempts } : {}) };
};

/** `<queue>Concurrency` and `<queue>ReservedConcurrency` per queue, e.g. `-c deliveriesConcurrency=600`. */
const perQueueContext = (suffix: string): Partial<Record<QueueName, number>> | undefined => {
  const entries = QUEUE_NAMES.flatMap((name) => {
    const value = numberContext(`${name}${suffix}`);
    return value === undefined ? [] : [[name, value] as const];
  });
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
};

new HeraldStack(app, context('stackName') ?? 'Herald', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'Herald: asynchronous request-reply and signed webhooks',
  alarmEmail: context('alarmEmail'),
  allowedWebhookHosts: context('allowedWebhookHosts'),
  publicBaseUrl: context('publicBaseUrl'),
  smsSenderId: context('smsSenderId'),
  emailSenderIdentity: context('emailSenderIdentity'),
  emailFromAddress: context('emailFromAddress'),
  smsAllowedCountries: context('smsAllowedCountries')?.split(','),
  // Context from the command line is a string: only the word true turns them on.
  demoProcessors: context('demoProcessors') === 'true',
  logLevel: logLevelContext('logLevel'),
  tracing: context('tracing') === 'true',
  requestRetentionDays: numberContext('requestRetentionDays'),
  logRetention: retentionContext('logRetentionDays'),
  throttle: {
    rateLimit: numberContext('apiRateLimit') ?? defaultThrottle.rateLimit,
    burstLimit: numberContext('apiBurstLimit') ?? defaultThrottle.burstLimit,
  },
  // Destroying the table is opt-in, for throwaway stacks only.
  tableRemovalPolicy: context('tableRemovalPolicy') === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
  tableEncryptionKeyArn: context('tableEncryptionKeyArn'),
  requestRetry: retryContext('request'),
  deliveryRetry: retryContext('delivery'),
  webhookDeadStreakLimit: numberContext('webhookDeadStreakLimit'),
  merchantRateLimit: numberContext('merchantRateLimit'),
  eventStreamConcurrency: numberContext('eventStreamConcurrency'),
  ...(context('apiOriginDomainName') || context('apiOriginCertificateArn')
    ? { apiOriginDomain: { domainName: context('apiOriginDomainName') ?? '', certificateArn: context('apiOriginCertificateArn') ?? '' } }
    : {}),
  maxRequestsInFlight: numberContext('maxRequestsInFlight'),
  maxSmsPerDay: numberContext('maxSmsPerDay'),
  workerConcurrency: perQueueContext('Concurrency'),
  reservedConcurrency: perQueueContext('ReservedConcurrency'),
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
