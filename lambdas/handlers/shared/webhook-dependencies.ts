import { ENV, webhookDefaults } from '../../../lib/topology';
import { version } from '../../../package.json';
import { dynamoClient, requiredEnv, sqsClient } from '../../adapters/aws-clients';
import { DynamoDeliveryStore, DynamoWebhookEndpointStore } from '../../adapters/dynamo-webhook-store';
import { HttpWebhookTransport } from '../../adapters/http-webhook-sender';
import { SqsDeliveryQueue } from '../../adapters/sqs-delivery-queue';
import { SsrfGuard, systemResolver, type Resolver } from '../../adapters/ssrf-guard';
import type { MerchantNotifier } from '../../core/ports';
import type { DeliveryAttempt } from '../../core/webhooks';
import { endpointDisabledNotifier } from './notifier';
import { webhookHostPolicy } from '../../core/webhook-url';
import { numberFromEnv, settings } from './dependencies';
import { logger } from './observability';

/**
 * The webhook adapters, built on first use from the environment like `dependencies.ts`. The
 * allow-list is read on every check, so a test or the local runtime may set it late.
 */
let cached: {
  endpoints?: DynamoWebhookEndpointStore;
  deliveries?: DynamoDeliveryStore;
  queue?: SqsDeliveryQueue;
} = {};
let resolver: Resolver = systemResolver;

export const USER_AGENT = `Herald-Webhooks/${version}`;

export const webhookSettings = {
  hostPolicy: () => webhookHostPolicy(process.env[ENV.allowedWebhookHosts], process.env[ENV.localWebhookHosts]),
  deadStreakLimit: () => numberFromEnv(ENV.webhookDeadStreakLimit, webhookDefaults.deadStreakLimit),
  schedule: () => settings.retrySchedule('deliveries'),
  maxAttempts: () => settings.retrySchedule('deliveries').maxAttempts,
};

export function webhookEndpointStore(): DynamoWebhookEndpointStore {
  cached.endpoints ??= new DynamoWebhookEndpointStore(dynamoClient(), requiredEnv(ENV.tableName), webhookDefaults.endpointCacheSeconds);
  return cached.endpoints;
}

export function deliveryStore(): DynamoDeliveryStore {
  cached.deliveries ??= new DynamoDeliveryStore(dynamoClient(), requiredEnv(ENV.tableName));
  return cached.deliveries;
}

export function deliveryQueue(): SqsDeliveryQueue {
  cached.queue ??= new SqsDeliveryQueue(sqsClient(), requiredEnv(ENV.deliveriesQueueUrl));
  return cached.queue;
}

export function ssrfGuard(): SsrfGuard {
  return new SsrfGuard(webhookSettings.hostPolicy(), resolver, webhookDefaults.maxUrlLength);
}

export function webhookTransport(): HttpWebhookTransport {
  return new HttpWebhookTransport(ssrfGuard(), {
    totalTimeoutMs: webhookDefaults.attemptTimeoutMs,
    connectTimeoutMs: webhookDefaults.connectTimeoutMs,
    maxResponseBytes: webhookDefaults.responseBodyBytes,
  });
}

/** Replaces DNS for the guard: how tests stage a host that resolves somewhere else later (rebinding). */
export function useResolver(next: Resolver | undefined): void {
  resolver = next ?? systemResolver;
}

/** Announces a disabled endpoint in the log only (an alarm can match it). */
export const loggingNotifier: MerchantNotifier = {
  async endpointDisabled(notice) {
    logger.warn('webhook.endpoint_disabled', { ...notice });
  },
};

/** How many of an endpoint's latest deliveries the notice quotes the last error of. */
const NOTICE_ERRORS = 5;

function describeAttempt(attempt: DeliveryAttempt): string {
  const what = attempt.status !== undefined ? `HTTP ${attempt.status}` : (attempt.error ?? 'error');
  return `${attempt.at} ${what}${attempt.errorMessage ? `: ${attempt.errorMessage.slice(0, 120)}` : ''}`;
}

/**
 * The merchant's operations contacts hear of a disabled endpoint through SNS, with the last errors
 * of its latest deliveries; the log line stays, for alarms that match it.
 */
export const snsNotifier: MerchantNotifier = {
  async endpointDisabled(notice) {
    await loggingNotifier.endpointDisabled(notice);
    const latest = await deliveryStore().listForEndpoint(notice.endpointId, { limit: NOTICE_ERRORS });
    const lastErrors = latest
      .map((delivery) => delivery.attempts.at(-1))
      .filter((attempt): attempt is DeliveryAttempt => attempt !== undefined && (attempt.status === undefined || attempt.status >= 300))
      .map(describeAttempt);
    await endpointDisabledNotifier().endpointDisabled({ ...notice, lastErrors });
  },
};

let notifier: MerchantNotifier = snsNotifier;

export function merchantNotifier(): MerchantNotifier {
  return notifier;
}

/** Installs the notifier the deliver function tells about disabled endpoints. */
export function useMerchantNotifier(next: MerchantNotifier | undefined): void {
  notifier = next ?? snsNotifier;
}
