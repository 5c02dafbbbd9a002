import { parseRequestMessage } from '../adapters/sqs-request-queue';
import { processRequest, type ProcessDependencies } from '../core/requests/process-request';
import type { ProcessorServices } from '../core/requests/processor';
import { gatherDeliverySends, perContainer, processors, redriveLog, requestEventPublisher, requestQueue, requestPorts, settings, walletLedger } from './shared/dependencies';
import { countMetric, METRIC } from './shared/observability';
import { recordContext, recordLogger, redeliver, sqsConsumer } from './shared/sqs-consumer';

/** Built on first use, so a processor that needs no store costs nothing. */
const services: ProcessorServices = {
  get wallets() {
    return walletLedger();
  },
};

/**
 * What the process use case works with, built once per container; only the message's data
 * passes per record. The retry scale is read at every use (the local runtime's tests change it
 * between invocations), and the remaining time and the logger are the record's own.
 */
const processDependencies = /* @__PURE__ */ perContainer((): ProcessDependencies => {
  const retry = settings.retrySchedule('requests');
  return {
    store: requestPorts().lifecycle,
    queue: requestQueue(),
    events: requestEventPublisher(),
    redrives: redriveLog(),
    queueName: 'requests',
    processorFor: processors().processorFor,
    services,
    retry,
    maxReceiveCount: retry.maxAttempts,
    get retryScale() {
      return settings.retryScale();
    },
    remainingTimeMs: () => recordContext()?.getRemainingTimeInMillis?.() ?? 60_000,
    logger: {
      info: (msg, extra) => recordLogger().info(msg, extra ?? {}),
      warn: (msg, extra) => recordLogger().warn(msg, extra ?? {}),
      error: (msg, extra) => recordLogger().error(msg, extra ?? {}),
    },
  };
});

/**
 * Consumes the requests queue: claims a request, runs its processor, finishes it and tells whoever
 * listens; the webhook fan-outs of a batch's records share their SendMessageBatch calls.
 */
export const handler = sqsConsumer({ describe: 'request', parse: parseRequestMessage }, async ({ message, receiveCount, receiptHandle, log }) => {
  const outcome = await processRequest(processDependencies(), { requestId: message.requestId, type: message.type, receiveCount, receiptHandle });
  const about = { requestId: message.requestId };
  if (outcome.kind !== 'skipped') countMetric(METRIC.processingAttempts);
  switch (outcome.kind) {
    case 'skipped':
      // A duplicate delivery, a claim race lost to a live lease, or a request already finished.
      log.info('Claim lost; message acknowledged without work', { ...about, reason: outcome.reason });
      return;
    case 'retry':
      log.warn('Attempt failed; retrying after backoff', { ...about, delaySeconds: outcome.delaySeconds, error: outcome.error });
      return redeliver(outcome.error.message);
    case 'exhausted':
      countMetric(METRIC.requestsFailed);
      log.error('Attempts exhausted; the message goes to the DLQ', { ...about, error: outcome.request.error });
      return redeliver('attempts exhausted');
    default:
      countMetric(outcome.kind === 'succeeded' ? METRIC.requestsSucceeded : METRIC.requestsFailed);
      log.info(`Request ${outcome.kind}`, { ...about, attempts: outcome.request.attempts });
  }
}, { perBatch: gatherDeliverySends });
