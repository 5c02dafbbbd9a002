import { ENV } from '../settings/environment';
import { webhookDefaults } from '../settings/webhooks';
import { EndpointCircuits } from '../core/webhooks/circuit-breaker';
import { deliverInOrder } from '../core/webhooks/deliver-in-order';
import { parseDeliveryMessage } from '../core/webhooks/delivery-message';
import { isSealedBy } from '../core/webhooks/delivery-message-seal';
import {
  callbackSecretStore,
  deliveryMessageKey,
  deliveryQueue,
  deliveryOrderLedger,
  deliveryStore,
  endpointHealth,
  perContainer,
  redriveLog,
  requestPorts,
  requestUrlOf,
  deliveryRateLimiter,
  numberFromEnv,
  settings,
  USER_AGENT,
  webhookEndpointStore,
  webhookTransport,
} from './shared/dependencies';
import { countMetric, METRIC } from './shared/observability';
import { recordLogger, redeliver, sqsConsumer } from './shared/sqs-consumer';
import type { OrderedDeliverDependencies } from '../core/webhooks/deliver-in-order';

// One set of circuits per warm instance: each instance learns an endpoint's failures itself (docs/scale.md, Fairness).
// Built on first use, from settings read then: cool-downs scale with the retry delays (the local
// runtime's demos see them in seconds), and a threshold of 0 turns the breaker off.
let builtCircuits: EndpointCircuits | null | undefined;
function circuits(): EndpointCircuits | undefined {
  if (builtCircuits === undefined) {
    const { failureThreshold, coolDownSeconds, maxCoolDownSeconds } = webhookDefaults.circuitBreaker;
    const threshold = numberFromEnv(ENV.circuitFailureThreshold, failureThreshold);
    const scale = settings.retryScale();
    builtCircuits =
      threshold > 0
        ? new EndpointCircuits({
            failureThreshold: threshold,
            coolDownSeconds: coolDownSeconds * scale,
            maxCoolDownSeconds: maxCoolDownSeconds * scale,
            probeTimeoutSeconds: Math.ceil(webhookDefaults.attemptTimeoutMs / 1000),
          })
        : null;
  }
  return builtCircuits ?? undefined;
}

/**
 * What the deliver use case works with, built once per container (a test's resolver still reaches
 * the transport's guard, see `useResolver`). The retry scale is read at every use: the local
 * runtime's tests change it between invocations.
 */
const deliverDependencies = /* @__PURE__ */ perContainer((): OrderedDeliverDependencies => {
  const schedule = settings.retrySchedule('deliveries');
  return {
    endpoints: webhookEndpointStore(),
    deliveries: deliveryStore(),
    queue: deliveryQueue(),
    transport: webhookTransport(),
    firstAttemptTimeoutMs: webhookDefaults.firstAttemptTimeoutMs,
    health: endpointHealth(),
    loadRequest: (id) => requestPorts().queries.get(id),
    requestUrlOf,
    userAgent: USER_AGENT,
    schedule,
    maxAttempts: schedule.maxAttempts,
    get retryScale() {
      return settings.retryScale();
    },
    log: (msg, extra) => recordLogger().info(msg, extra ?? {}),
    redrives: redriveLog(),
    queueName: 'deliveries',
    rateLimiter: deliveryRateLimiter(),
    circuits: circuits(),
    callbacks: { loadRequest: (id) => requestPorts().queries.get(id), secretsOf: (merchantId) => callbackSecretStore().getCached(merchantId) },
    order: deliveryOrderLedger(),
  };
});

/**
 * Consumes the deliveries queue: one signed POST per message, retries by visibility timeout.
 * Records run concurrently, each bounded by its own attempt timeout, so one endpoint that never
 * answers costs its neighbours nothing; an endpoint that keeps failing is skipped while its circuit is open.
 */
export const handler = sqsConsumer({ describe: 'delivery', parse: parseDeliveryMessage }, async ({ message, receiveCount, receiptHandle, log, logOutcome }) => {
  if (!isSealedBy(message, await deliveryMessageKey().get())) {
    // Not sent by Herald, or changed since: signing it would lend the merchant's secret to a forgery.
    // Redelivering it would fail the same way, so it is dropped, loudly.
    log.error('Dropping a delivery message without a valid seal', { deliveryId: message.deliveryId, endpointId: message.endpointId });
    return;
  }
  const outcome = await deliverInOrder(deliverDependencies(), { message, receiveCount, receiptHandle });
  const about = { deliveryId: message.deliveryId, endpointId: message.endpointId };
  switch (outcome.kind) {
    case 'retry':
      countMetric(METRIC.deliveriesFailed);
      log.info('Delivery attempt failed; retrying after backoff', { ...about, delaySeconds: outcome.delaySeconds, status: outcome.attempt.status, error: outcome.attempt.error });
      return redeliver('retry');
    case 'dead':
      countMetric(METRIC.deliveriesFailed);
      countMetric(METRIC.deliveriesDead);
      log.warn('Delivery attempts exhausted; the message goes to the DLQ', { ...about, status: outcome.attempt.status, error: outcome.attempt.error });
      return redeliver('dead');
    case 'skipped':
      log.info('Delivery skipped: the endpoint circuit is open', { ...about, delaySeconds: outcome.delaySeconds, attempt: outcome.attempt.attempt });
      return;
    case 'toDeadLetters':
      return redeliver('dead');
    case 'dropped':
      return;
    case 'behind':
      log.info('Delivery waits for the one ahead of it in its ordering key', { ...about, ahead: outcome.ahead });
      return;
    case 'waiting':
      log.info('Delivery waits for its endpoint\'s rate limit on a delayed message', { ...about, until: outcome.until });
      return;
    default:
      if (outcome.kind === 'delivered') countMetric(METRIC.deliveriesSucceeded);
      else {
        // A 410 ends the delivery at once: a failed attempt and a dead delivery, though no DLQ message.
        countMetric(METRIC.deliveriesFailed);
        countMetric(METRIC.deliveriesDead);
      }
      logOutcome(`Delivery ${outcome.kind}`, { ...about, status: outcome.attempt.status, latencyMs: outcome.attempt.latencyMs });
  }
});
