import { parseRequestMessage } from '../adapters/sqs-request-queue';
import { processRequest } from '../core/requests/process-request';
import type { ProcessorServices } from '../core/requests/processor';
import { processors, redriveLog, requestEventPublisher, requestQueue, requestStore, settings, walletLedger } from './shared/dependencies';
import { countMetric, METRIC } from './shared/observability';
import { redeliver, sqsConsumer } from './shared/sqs-consumer';

/** Built on first use, so a processor that needs no store costs nothing. */
const services: ProcessorServices = {
  get wallets() {
    return walletLedger();
  },
};

/** Consumes the requests queue: claims a request, runs its processor, finishes it and tells whoever listens. */
export const handler = sqsConsumer({ describe: 'request', parse: parseRequestMessage }, async ({ message, receiveCount, receiptHandle, log, context }) => {
  const retry = settings.retrySchedule('requests');
  const outcome = await processRequest(
    {
      store: requestStore(),
      queue: requestQueue(),
      events: requestEventPublisher(),
      redrives: redriveLog(),
      queueName: 'requests',
      processorFor: processors().processorFor,
      services,
      retry,
      maxReceiveCount: retry.maxAttempts,
      retryScale: settings.retryScale(),
      remainingTimeMs: () => context.getRemainingTimeInMillis?.() ?? 60_000,
      logger: {
        info: (msg, extra) => log.info(msg, extra ?? {}),
        warn: (msg, extra) => log.warn(msg, extra ?? {}),
        error: (msg, extra) => log.error(msg, extra ?? {}),
      },
    },
    { requestId: message.requestId, type: message.type, receiveCount, receiptHandle },
  );
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
});
