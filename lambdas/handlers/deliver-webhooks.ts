import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { webhookDefaults } from '../../lib/topology';
import { TRACE_ID_ATTRIBUTE } from '../adapters/sqs-request-queue';
import { deliverWebhook } from '../core/deliver-webhook';
import { parseDeliveryMessage } from '../core/webhooks';
import { requestStore, settings } from './shared/dependencies';
import { countMetric, flushMetrics, logger, METRIC } from './shared/observability';
import {
  deliveryQueue,
  deliveryStore,
  merchantNotifier,
  USER_AGENT,
  webhookEndpointStore,
  webhookSettings,
  webhookTransport,
} from './shared/webhook-dependencies';

/** A message that must come back: after its backoff, or on to the DLQ. */
class RedeliveryRequested extends Error {}

/** Consumes the deliveries queue: one signed POST per message, retries by visibility timeout. */
export const handler = async (event: SQSEvent, context: Context) => {
  try {
    // Records run concurrently (Powertools' default), each bounded by its own attempt timeout, so one
    // endpoint that never answers costs its neighbours nothing. The processor holds the batch's
    // failures, so each invocation needs its own: concurrent batches in one process must not mix.
    return await processPartialResponse(event, (record: SQSRecord) => deliverRecord(record), new BatchProcessor(EventType.SQS), {
      context,
      throwOnFullBatchFailure: false,
    });
  } finally {
    flushMetrics();
  }
};

async function deliverRecord(record: SQSRecord): Promise<void> {
  const traceId = record.messageAttributes?.[TRACE_ID_ATTRIBUTE]?.stringValue;
  const log = logger.createChild({ persistentKeys: { messageId: record.messageId, ...(traceId ? { traceId } : {}) } });
  const message = parseDeliveryMessage(record.body);
  if (!message) {
    log.error('Dropping an unreadable delivery message', { body: record.body.slice(0, 200) });
    return;
  }
  const outcome = await deliverWebhook(
    {
      endpoints: webhookEndpointStore(),
      deliveries: deliveryStore(),
      queue: deliveryQueue(),
      transport: webhookTransport(),
      notifier: merchantNotifier(),
      loadRequest: (id) => requestStore().get(id),
      userAgent: USER_AGENT,
      schedule: webhookSettings.schedule(),
      maxAttempts: webhookSettings.maxAttempts(),
      retryScale: settings.retryScale(),
      deadStreakLimit: webhookSettings.deadStreakLimit(),
      failingDaysLimit: webhookDefaults.failingDaysLimit,
      log: (msg, extra) => log.info(msg, extra ?? {}),
    },
    { message, receiveCount: Number(record.attributes.ApproximateReceiveCount ?? '1'), receiptHandle: record.receiptHandle },
  );
  const about = { deliveryId: message.deliveryId, endpointId: message.endpointId };
  switch (outcome.kind) {
    case 'retry':
      countMetric(METRIC.deliveriesFailed);
      log.info('Delivery attempt failed; retrying after backoff', { ...about, delaySeconds: outcome.delaySeconds, status: outcome.attempt.status, error: outcome.attempt.error });
      throw new RedeliveryRequested('retry');
    case 'dead':
      countMetric(METRIC.deliveriesFailed);
      countMetric(METRIC.deliveriesDead);
      log.warn('Delivery attempts exhausted; the message goes to the DLQ', { ...about, status: outcome.attempt.status, error: outcome.attempt.error });
      throw new RedeliveryRequested('dead');
    case 'dropped':
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
}
