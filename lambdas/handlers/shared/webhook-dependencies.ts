import { ENV, queues, webhookDefaults } from '../../../lib/topology';
import { version } from '../../../package.json';
import { dynamoClient, requiredEnv, sqsClient } from '../../adapters/aws-clients';
import { DynamoDeliveryStore, DynamoWebhookEndpointStore } from '../../adapters/dynamo-webhook-store';
import { HttpWebhookTransport } from '../../adapters/http-webhook-sender';
import { SqsDeliveryQueue } from '../../adapters/sqs-delivery-queue';
import { SsrfGuard, systemResolver, type Resolver } from '../../adapters/ssrf-guard';
import type { MerchantNotifier } from '../../core/ports';
import { parseAllowedHosts } from '../../core/webhook-url';
import { numberFromEnv } from './dependencies';
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
  allowedHosts: () => parseAllowedHosts(process.env[ENV.allowedWebhookHosts]),
  deadStreakLimit: () => numberFromEnv(ENV.webhookDeadStreakLimit, webhookDefaults.deadStreakLimit),
  schedule: () => queues.deliveries.retry,
  maxAttempts: () => queues.deliveries.deadLetter.maxReceiveCount,
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
  return new SsrfGuard(webhookSettings.allowedHosts(), resolver, webhookDefaults.maxUrlLength);
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

/**
 * Until merchant notifications exist, a disabled endpoint is announced in the log (an alarm can
 * match it); the SNS notifier replaces this.
 */
export const loggingNotifier: MerchantNotifier = {
  async endpointDisabled(notice) {
    logger.warn('webhook.endpoint_disabled', { ...notice });
  },
};

let notifier: MerchantNotifier = loggingNotifier;

export function merchantNotifier(): MerchantNotifier {
  return notifier;
}

/** Installs the notifier the deliver function tells about disabled endpoints. */
export function useMerchantNotifier(next: MerchantNotifier | undefined): void {
  notifier = next ?? loggingNotifier;
}
