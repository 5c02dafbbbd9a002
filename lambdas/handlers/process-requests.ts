import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseRequestMessage, TRACE_ID_ATTRIBUTE } from '../adapters/sqs-request-queue';
import { processRequest } from '../core/process-request';
import { processorFor } from '../processors/registry';
import type { ProcessorServices } from '../core/processor';
import { redriveLog, requestQueue, requestStore, settings, walletLedger } from './shared/dependencies';
import { requestEventPublisher } from './shared/fan-out';
import { countMetric, flushMetrics, logger, METRIC } from './shared/observability';

/** Built on first use, so a processor that needs no store costs nothing. */
const services: ProcessorServices = {
  get wallets() {
    return walletLedger();
  },
};

/** A message that must come back later (retry backoff, or on to the DLQ): reported as a batch item failure. */
class RedeliveryRequested extends Error {}

/**
 * Consumes the requests queue. Each record is processed on its own: one bad record never fails
 * its neighbours; records that must be retried are reported through `batchItemFailures`.
 */
export const handler = async (event: SQSEvent, context: Context) => {
  // One processor per invocation: it holds the batch's results, and the local runtime runs
  // several batches of this handler at once in one process (on AWS a container runs one).
  const batch = new BatchProcessor(EventType.SQS);
  try {
    return await processPartialResponse(event, (record: SQSRecord) => processRecord(record, context), batch, {
      context,
      // Report every record instead of throwing, so a fully failed batch keeps the backoff each record chose.
      throwOnFullBatchFailure: false,
    });
  } finally {
    flushMetrics();
  }
};

async function processRecord(record: SQSRecord, context: Context): Promise<void> {
  const traceId = record.messageAttributes?.[TRACE_ID_ATTRIBUTE]?.stringValue;
  const log = logger.createChild({ persistentKeys: { messageId: record.messageId, ...(traceId ? { traceId } : {}) } });
  const message = parseRequestMessage(record.body);
  if (!message) {
    // Redelivering a message we cannot read would fail the same way; drop it loudly.
    log.error('Dropping an unreadable message', { body: record.body.slice(0, 200) });
    return;
  }
  const retry = settings.retrySchedule('requests');
  const outcome = await processRequest(
    {
      store: requestStore(),
      queue: requestQueue(),
      events: requestEventPublisher(),
      redrives: redriveLog(),
      queueName: 'requests',
      processorFor,
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
    {
      requestId: message.requestId,
      type: message.type,
      receiveCount: Number(record.attributes.ApproximateReceiveCount ?? '1'),
      receiptHandle: record.receiptHandle,
    },
  );
  if (outcome.kind !== 'skipped') countMetric(METRIC.processingAttempts);
  switch (outcome.kind) {
    case 'skipped':
      // A duplicate delivery, a claim race lost to a live lease, or a request already finished.
      log.info('Claim lost; message acknowledged without work', { requestId: message.requestId, reason: outcome.reason });
      return;
    case 'retry':
      log.warn('Attempt failed; retrying after backoff', { requestId: message.requestId, delaySeconds: outcome.delaySeconds, error: outcome.error });
      throw new RedeliveryRequested(outcome.error.message);
    case 'exhausted':
      countMetric(METRIC.requestsFailed);
      log.error('Attempts exhausted; the message goes to the DLQ', { requestId: message.requestId, error: outcome.request.error });
      throw new RedeliveryRequested('attempts exhausted');
    default:
      countMetric(outcome.kind === 'succeeded' ? METRIC.requestsSucceeded : METRIC.requestsFailed);
      log.info(`Request ${outcome.kind}`, { requestId: message.requestId, attempts: outcome.request.attempts });
  }
}
