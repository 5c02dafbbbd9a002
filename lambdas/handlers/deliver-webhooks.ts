import { webhookDefaults } from '../../lib/topology';
import { deliverWebhook } from '../core/deliver-webhook';
import { parseDeliveryMessage } from '../core/webhooks';
import {
  deliveryQueue,
  deliveryStore,
  merchantNotifier,
  redriveLog,
  requestStore,
  requestUrlOf,
  deliveryRateLimiter,
  settings,
  USER_AGENT,
  webhookEndpointStore,
  webhookTransport,
} from './shared/dependencies';
import { countMetric, METRIC } from './shared/observability';
import { redeliver, sqsConsumer } from './shared/sqs-consumer';

/**
 * Consumes the deliveries queue: one signed POST per message, retries by visibility timeout.
 * Records run concurrently, each bounded by its own attempt timeout, so one endpoint that never
 * answers costs its neighbours nothing.
 */
export const handler = sqsConsumer({ describe: 'delivery', parse: parseDeliveryMessage }, async ({ message, receiveCount, receiptHandle, log }) => {
  const schedule = settings.retrySchedule('deliveries');
  const outcome = await deliverWebhook(
    {
      endpoints: webhookEndpointStore(),
      deliveries: deliveryStore(),
      queue: deliveryQueue(),
      transport: webhookTransport(),
      notifier: merchantNotifier(),
      loadRequest: (id) => requestStore().get(id),
      requestUrlOf,
      userAgent: USER_AGENT,
      schedule,
      maxAttempts: schedule.maxAttempts,
      retryScale: settings.retryScale(),
      deadStreakLimit: settings.webhookDeadStreakLimit(),
      failingDaysLimit: webhookDefaults.failingDaysLimit,
      log: (msg, extra) => log.info(msg, extra ?? {}),
      redrives: redriveLog(),
      queueName: 'deliveries',
      rateLimiter: deliveryRateLimiter(),
    },
    { message, receiveCount, receiptHandle },
  );
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
    case 'dropped':
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
      log.info(`Delivery ${outcome.kind}`, { ...about, status: outcome.attempt.status, latencyMs: outcome.attempt.latencyMs });
  }
});
