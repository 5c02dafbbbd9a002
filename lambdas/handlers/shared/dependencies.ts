import { AsyncLocalStorage } from 'node:async_hooks';
import { ENV } from '../../settings/environment';
import { defaults } from '../../settings/requests';
import { eventStreams } from '../../settings/api';
import { retryScheduleOf, type QueueName } from '../../settings/retry';
import { webhookDefaults } from '../../settings/webhooks';
import { version } from '../../../package.json';
import { dynamoClient, requiredEnv, s3Client, sdkOf, snsClient, sqsClient } from '../../adapters/aws-clients';
import { S3RequestBodies } from '../../adapters/s3-request-bodies';
import { deliveryMessageKeyIn, statusTokenSecretIn } from '../../adapters/dynamo-service-secret-store';
import { DynamoStreamSlots } from '../../adapters/dynamo-stream-slots';
import { DynamoMerchantQuotas } from '../../adapters/dynamo-merchant-quotas';
import { DynamoWaitingCalls } from '../../adapters/dynamo-waiting-calls';
import { DynamoMerchantStore } from '../../adapters/dynamo-merchant-store';
import { releaseSlotOf, type MerchantQuotaLimits, type MerchantQuotas } from '../../core/merchants/merchant-quotas';
import { DynamoNotificationLedger, DynamoOperationsContacts, DynamoRecipientSubscriptions } from '../../adapters/dynamo-notification-store';
import { DynamoRedriveLog } from '../../adapters/dynamo-redrive-log';
import { dynamoRequestPorts } from '../../adapters/dynamo-request-ports';
import { DynamoWalletLedger } from '../../adapters/dynamo-wallet-ledger';
import { DynamoDeliveryStore } from '../../adapters/dynamo-delivery-store';
import { DynamoDeliveryRateLimiter } from '../../adapters/dynamo-delivery-rate-limiter';
import { DynamoDeliveryOrderLedger } from '../../adapters/dynamo-delivery-order';
import { DynamoWebhookEndpointStore } from '../../adapters/dynamo-webhook-endpoint-store';
import { DynamoCallbackSecretStore } from '../../adapters/dynamo-callback-secret-store';
import { HttpWebhookTransport } from '../../adapters/http-webhook-sender';
import { OutboxEmailSender } from '../../adapters/outbox-email-sender';
import { OutboxSmsSender } from '../../adapters/outbox-sms-sender';
import { SsrfGuard, systemResolver, type Resolver } from '../../adapters/ssrf-guard';
import { EndpointHealthMonitor } from '../../core/webhooks/endpoint-health';
import { WebhookFanOut } from '../../core/webhooks/fan-out-webhooks';
import { DeliverySendGathering } from '../../core/webhooks/delivery-send-gathering';
import type { DeliveryQueue } from '../../core/webhooks/ports';
import type { BatchCompanion } from './sqs-consumer';
import { notifyEndpointDisabled, notifyRequestFinished, type NotifierDependencies } from '../../core/notifications/notifier';
import { type SmsSender } from '../../core/notifications/ports';
import type { MerchantNotifier } from '../../core/merchants/ports';
import type { RequestEventPublisher } from '../../core/requests/ports';
import { everyPublisher } from '../../core/requests/request-finished';
import { parseSmsCountries } from '../../core/notifications/notify-targets';
import { webhookHostPolicy } from '../../core/webhooks/webhook-url';
import type { EmailSender } from '../../core/notifications/ports';
import { processorRegistry, type ProcessorRegistry } from '../../processors/registry';
import { logger } from './observability';

// The SQS and SNS adapters load with this module, as the DynamoDB ones do, except in the bundle of
// a function granted no queue or no topic (see aws-clients.ts): there the require is dead code.
const sqsAdapters =
  process.env.HERALD_SQS_SDK !== 'omitted'
    ? {
        ...(require('../../adapters/sqs-request-queue') as typeof import('../../adapters/sqs-request-queue')),
        ...(require('../../adapters/sqs-delivery-queue') as typeof import('../../adapters/sqs-delivery-queue')),
      }
    : undefined;
const snsAdapters =
  process.env.HERALD_SNS_SDK !== 'omitted' ? (require('../../adapters/sns-notifier') as typeof import('../../adapters/sns-notifier')) : undefined;
const sesAdapters =
  process.env.HERALD_SES_SDK !== 'omitted' ? (require('../../adapters/ses-email-sender') as typeof import('../../adapters/ses-email-sender')) : undefined;

/**
 * The composition root of every handler: which adapter implements which port, built from the
 * environment on first use and then kept for the life of the Lambda container. Reading the
 * environment lazily (not at import) lets the local runtime and tests set it before the first
 * invocation, and a function builds only the adapters it uses. Nothing here decides anything about
 * the domain; that is the use cases' job.
 */
export function perContainer<T>(build: () => T): () => T {
  let built: { readonly value: T } | undefined;
  return () => (built ??= { value: build() }).value;
}

export function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? NaN : Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : fallback;
}

/** Settings read on every call, so a test or the local runtime may change them between invocations. */
export const settings = {
  retryScale: () => numberFromEnv(ENV.retryScale, 1),
  requestRetentionDays: () => numberFromEnv(ENV.requestRetentionDays, defaults.requestRetentionDays),
  /**
   * The stack always sets it (to its CloudFormation stack id) and so does the local runtime; the
   * fallback only serves tests that invoke a handler bare, where ids need no secrecy.
   */
  requestIdKey: () => process.env[ENV.requestIdKey] || UNKEYED_REQUEST_IDS,
  /**
   * The retry schedule of a queue's consumer: the topology's unless the stack's props overrode it
   * (HERALD_REQUEST_* / HERALD_DELIVERY_* variables). Its `maxAttempts` is the queue's
   * maxReceiveCount. A malformed value throws rather than silently disagreeing with the queue.
   */
  retrySchedule: (queue: QueueName) => retryScheduleOf(queue, process.env),
  /** Only the exact value `true` turns the demo processors on: a deployment missing it runs without them. */
  demoProcessors: () => process.env[ENV.demoProcessors] === 'true',
  /** Where SMS may go; unset or empty means nowhere, so a deployment missing it sends no SMS. */
  smsCountries: () => parseSmsCountries(process.env[ENV.smsAllowedCountries]),
  sweep: () => ({
    unenqueuedAfterSeconds: numberFromEnv(ENV.sweepUnenqueuedAfterSeconds, defaults.sweepUnenqueuedAfterSeconds),
    staleEnqueueAfterSeconds: numberFromEnv(ENV.sweepStaleEnqueueAfterSeconds, defaults.sweepStaleEnqueueAfterSeconds),
    batchLimit: defaults.sweepBatchLimit,
  }),
  /** Each quota applies when its variable is a positive number; none locally unless asked for. */
  merchantQuotas: (): MerchantQuotaLimits | undefined => {
    const requestsInFlight = numberFromEnv(ENV.maxRequestsInFlight, 0);
    const smsPerDay = numberFromEnv(ENV.maxSmsPerDay, 0);
    if (requestsInFlight <= 0 && smsPerDay <= 0) return undefined;
    return { ...(requestsInFlight > 0 ? { requestsInFlight } : {}), ...(smsPerDay > 0 ? { smsPerDay } : {}) };
  },
  webhookHostPolicy: () => webhookHostPolicy(process.env[ENV.allowedWebhookHosts], process.env[ENV.localWebhookHosts]),
  webhookDeadStreakLimit: () => numberFromEnv(ENV.webhookDeadStreakLimit, webhookDefaults.deadStreakLimit),
};

const UNKEYED_REQUEST_IDS = 'herald-unkeyed-request-ids';

export const USER_AGENT = `Herald-Webhooks/${version}`;

/** The processors this deployment runs (the demo ones only when `HERALD_DEMO_PROCESSORS=true`). */
export function processors(): ProcessorRegistry {
  return processorRegistry({ demoProcessors: settings.demoProcessors() });
}

// Each builder is marked pure (a closure, nothing runs until it is called) so that esbuild leaves
// out of a function's bundle every adapter its handler never asks for.

// Requests and merchants.
export const requestPorts = /* @__PURE__ */ perContainer(() =>
  dynamoRequestPorts(dynamoClient(), requiredEnv(ENV.tableName), settings.requestRetentionDays(), requestBodyObjects()),
);
/** The bodies bucket, for the functions whose grants name it; the others never meet a body kept there. */
const requestBodyObjects = (): S3RequestBodies | undefined => {
  const bucket = process.env[ENV.bodiesBucket];
  return bucket ? new S3RequestBodies(s3Client, bucket) : undefined;
};
export const merchantStore = /* @__PURE__ */ perContainer(() => new DynamoMerchantStore(dynamoClient(), requiredEnv(ENV.tableName)));
export const requestQueue = /* @__PURE__ */ perContainer(() => new (sdkOf(sqsAdapters, 'SQS').SqsRequestQueue)(sqsClient(), requiredEnv(ENV.requestsQueueUrl)));
/** The requests queue's slow lane, where the deployment has one (only its consumer is told its URL). */
export const slowLaneQueue = /* @__PURE__ */ perContainer(() => {
  const url = process.env[ENV.requestsSlowLaneQueueUrl];
  return url ? { url, queue: new (sdkOf(sqsAdapters, 'SQS').SqsRequestQueue)(sqsClient(), url) } : undefined;
});
export const merchantQuotaStore = /* @__PURE__ */ perContainer(() => new DynamoMerchantQuotas(dynamoClient(), requiredEnv(ENV.tableName)));
export const waitingCalls = /* @__PURE__ */ perContainer(() => new DynamoWaitingCalls(dynamoClient(), requiredEnv(ENV.tableName)));

/** The quotas submit counts against, when the deployment sets them. */
export function merchantQuotas(): { store: MerchantQuotas; limits: MerchantQuotaLimits } | undefined {
  const limits = settings.merchantQuotas();
  return limits ? { store: merchantQuotaStore(), limits } : undefined;
}

/** Wallet balances and their ledger, for processors that move money (through their context's services). */
export const walletLedger = /* @__PURE__ */ perContainer(() => new DynamoWalletLedger(dynamoClient(), requiredEnv(ENV.tableName)));
/** The redrive generations the worker compares a failed request with. */
export const redriveLog = /* @__PURE__ */ perContainer(() => new DynamoRedriveLog(dynamoClient(), requiredEnv(ENV.tableName)));
/** The secret behind status tokens, in the secrets table, read once per container. */
export const statusTokenSecrets = /* @__PURE__ */ perContainer(() => statusTokenSecretIn(dynamoClient(), requiredEnv(ENV.secretsTableName)));
/** The key that seals delivery messages, in the secrets table, read once per container. */
export const deliveryMessageKey = /* @__PURE__ */ perContainer(() => deliveryMessageKeyIn(dynamoClient(), requiredEnv(ENV.secretsTableName)));

/** The event stream slots of every merchant (`eventStreams.maxOpenPerMerchant` each). */
export const streamSlots = /* @__PURE__ */ perContainer(() => new DynamoStreamSlots(dynamoClient(), requiredEnv(ENV.tableName), eventStreams.maxOpenPerMerchant));

// Webhooks.
export const webhookEndpointStore = /* @__PURE__ */ perContainer(
  () =>
    new DynamoWebhookEndpointStore(dynamoClient(), requiredEnv(ENV.tableName), webhookDefaults.endpointCacheSeconds, process.env[ENV.secretsTableName]),
);
/** Merchants' callback signing secrets; the secrets table only where the function is granted it. */
export const callbackSecretStore = /* @__PURE__ */ perContainer(
  () =>
    new DynamoCallbackSecretStore(dynamoClient(), requiredEnv(ENV.tableName), webhookDefaults.endpointCacheSeconds, process.env[ENV.secretsTableName]),
);
export const deliveryRateLimiter = /* @__PURE__ */ perContainer(() => new DynamoDeliveryRateLimiter(dynamoClient(), requiredEnv(ENV.tableName)));
export const deliveryStore = /* @__PURE__ */ perContainer(() => new DynamoDeliveryStore(dynamoClient(), requiredEnv(ENV.tableName), settings.requestRetentionDays()));
/** The ordering keys' numbers: read and written only for requests submitted with an `orderingKey`. */
export const deliveryOrderLedger = /* @__PURE__ */ perContainer(() => new DynamoDeliveryOrderLedger(dynamoClient(), requiredEnv(ENV.tableName), settings.requestRetentionDays()));
export const deliveryQueue = /* @__PURE__ */ perContainer(() => new (sdkOf(sqsAdapters, 'SQS').SqsDeliveryQueue)(sqsClient(), requiredEnv(ENV.deliveriesQueueUrl), deliveryMessageKey()));

let resolver: Resolver = systemResolver;
/** Asks whichever resolver is installed now, so that a guard kept for the container follows `useResolver`. */
const currentResolver: Resolver = (hostname) => resolver(hostname);

/** Replaces DNS for the guard: how tests stage a host that resolves somewhere else later (rebinding). */
export function useResolver(next: Resolver | undefined): void {
  resolver = next ?? systemResolver;
}

/** Built per call, not kept: the host policy may change between invocations (tests, local runtime). */
export function ssrfGuard(): SsrfGuard {
  return new SsrfGuard(settings.webhookHostPolicy(), currentResolver, webhookDefaults.maxUrlLength);
}

export function webhookTransport(): HttpWebhookTransport {
  return new HttpWebhookTransport(ssrfGuard(), {
    totalTimeoutMs: webhookDefaults.attemptTimeoutMs,
    connectTimeoutMs: webhookDefaults.connectTimeoutMs,
    maxResponseBytes: webhookDefaults.responseReadBytes,
  });
}

// Notifications.
/** The notification slots alone: what the status function reads, with nothing but the table. */
export const notificationLedger = /* @__PURE__ */ perContainer(
  () => new DynamoNotificationLedger(dynamoClient(), requiredEnv(ENV.tableName), settings.requestRetentionDays()),
);

/**
 * Where an SMS goes is chosen here and nowhere else: to SNS, or, when `HERALD_SMS_OUTBOX_URL` is
 * set (the local runtime sets it; the stack never does), to that outbox. Operations notices always
 * go through the topic, whose API the local emulator has too; request emails do unless direct
 * email is on (see directEmailSender).
 */
function smsSender(): SmsSender {
  const outboxUrl = process.env[ENV.smsOutboxUrl];
  if (outboxUrl) return new OutboxSmsSender(outboxUrl);
  return new (sdkOf(snsAdapters, 'SNS').SnsSmsSender)(snsClient(), process.env[ENV.smsSenderId] || undefined);
}

/**
 * Request emails go straight to their address (SES, or the local outbox in its place) once the
 * operator named a sender; without one they go through the topic, as operations notices always do.
 */
function directEmailSender(): EmailSender | undefined {
  const fromAddress = process.env[ENV.emailFromAddress];
  if (!fromAddress) return undefined;
  const outboxUrl = process.env[ENV.emailOutboxUrl];
  if (outboxUrl) return new OutboxEmailSender(outboxUrl, fromAddress);
  if (!sesAdapters) throw new Error('This function is bundled without the SES client: its grants give it no SES access');
  return new sesAdapters.SesEmailSender(fromAddress);
}

export const notifierDependencies = /* @__PURE__ */ perContainer(
  (): NotifierDependencies => {
    const email = directEmailSender();
    return {
      ledger: notificationLedger(),
      sms: smsSender(),
      ...(email ? { email } : {}),
      smsQuota: { store: merchantQuotaStore(), perDay: () => settings.merchantQuotas()?.smsPerDay },
      topic: new (sdkOf(snsAdapters, 'SNS').SnsNotificationTopic)(snsClient(), requiredEnv(ENV.notificationsTopicArn), process.env[ENV.smsSenderId] || undefined),
      recipients: new DynamoRecipientSubscriptions(dynamoClient(), requiredEnv(ENV.tableName)),
      contacts: new DynamoOperationsContacts(dynamoClient(), requiredEnv(ENV.tableName)),
      log: (message, extra) => logger.warn(message, extra ?? {}),
    };
  },
);

/**
 * Where thin events link to: `GET /v1/requests/{id}` under the API's public URL, or the path
 * alone where no URL is configured.
 */
export function requestUrlOf(requestId: string): string {
  return `${(process.env[ENV.publicApiUrl] ?? '').replace(/\/+$/, '')}/v1/requests/${requestId}`;
}

/** The gathering of the batch whose record is running here, if its consumer gathers its sends. */
const gatheringScope = new AsyncLocalStorage<DeliverySendGathering>();

/**
 * One gathering of delivery sends per batch of the process worker (`sqsConsumer`'s `perBatch`):
 * the fan-outs of its records share their SendMessageBatch calls.
 */
export function gatherDeliverySends(records: number): BatchCompanion {
  const gathering = new DeliverySendGathering(deliveryQueue(), records, webhookDefaults.fanOutGatherMs);
  return { within: (work) => gatheringScope.run(gathering, work), recordSettled: () => gathering.recordSettled() };
}

/** The fan-out's queue: the running batch's gathering when there is one, the queue itself otherwise. */
const fanOutQueue: DeliveryQueue = {
  send: (messages, options) => (gatheringScope.getStore() ?? deliveryQueue()).send(messages, options),
  delayRedelivery: (receiptHandle, seconds) => deliveryQueue().delayRedelivery(receiptHandle, seconds),
};

const webhookFanOut = /* @__PURE__ */ perContainer(() => new WebhookFanOut({ endpoints: webhookEndpointStore(), queue: fanOutQueue, requestUrlOf, order: deliveryOrderLedger(), deliveries: deliveryStore() }));

// Each side's adapters are built only once a request ends.
const requestFinishedPublisher = /* @__PURE__ */ everyPublisher([
  { requestFinished: (request) => releaseSlotOf(merchantQuotaStore(), request) },
  { requestFinished: (request) => notifyRequestFinished(notifierDependencies(), request) },
  { requestFinished: (request) => webhookFanOut().requestFinished(request) },
]);

/** Everyone the worker tells when a request ends: webhook deliveries and SMS/email notifications. */
export function requestEventPublisher(): RequestEventPublisher {
  return requestFinishedPublisher;
}

/** Tells a merchant's operations contacts that one of its webhook endpoints was disabled (through SNS). */
export function operationsNotices(): Pick<MerchantNotifier, 'endpointDisabled'> {
  return { endpointDisabled: (notice) => notifyEndpointDisabled(notifierDependencies(), notice) };
}

let notifierOverride: MerchantNotifier | undefined;

/**
 * The endpoint health the deliver function reports to: failing streaks, disabling, and the
 * notice to the merchant's operations contacts (or to the collector a test installed).
 */
export const endpointHealth = /* @__PURE__ */ perContainer(
  () =>
    new EndpointHealthMonitor({
      endpoints: webhookEndpointStore(),
      deliveries: deliveryStore(),
      operations: { endpointDisabled: (notice) => (notifierOverride ?? operationsNotices()).endpointDisabled(notice) },
      // Read at each use: the local runtime's tests change it between invocations.
      get deadStreakLimit() {
        return settings.webhookDeadStreakLimit();
      },
      failingDaysLimit: webhookDefaults.failingDaysLimit,
      log: (message, extra) => logger.warn(message, extra ?? {}),
    }),
);

/** Collects the endpoint-disabled notices instead of sending them (tests); undefined restores the operations contacts. */
export function useMerchantNotifier(next: MerchantNotifier | undefined): void {
  notifierOverride = next;
}
