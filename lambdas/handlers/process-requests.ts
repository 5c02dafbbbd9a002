import { parseRequestMessage } from '../adapters/sqs-request-queue';
import { processRequest, type ProcessDependencies } from '../core/requests/process-request';
import type { ProcessorServices } from '../core/requests/processor';
import { SlowLaneRouter } from '../core/requests/slow-lane';
import { defaults } from '../settings/requests';
import { gatherDeliverySends, perContainer, processors, redriveLog, requestEventPublisher, requestQueue, requestPorts, settings, slowLaneQueue, walletLedger } from './shared/dependencies';
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

/** The same dependencies for a message of the slow lane: its retry backoff changes that queue's visibility. */
const slowLaneDependencies = /* @__PURE__ */ perContainer((): ProcessDependencies => ({ ...processDependencies(), queue: slowLaneQueue()!.queue }));

/** This instance's measured durations: the lane of each merchant's requests of each type (docs/scale.md, "A slow lane"). */
const lanes = /* @__PURE__ */ perContainer(() => new SlowLaneRouter(defaults.slowLane));

/**
 * Whether this container has finished a record. Those started before paid the container's own
 * start (connections, credentials, compilation; over a second against the local emulators), which
 * says nothing about the merchant's requests, so their times are not measured.
 */
let containerWarm = false;

/** Whether a record came from the slow lane: its source ARN ends with the queue name its URL ends with. */
function fromSlowLane(source: string): boolean {
  const slowLane = slowLaneQueue();
  return slowLane !== undefined && source.split(':').at(-1) === slowLane.url.split('/').at(-1);
}

/**
 * Consumes the requests queue and its slow lane: claims a request, runs its processor, finishes
 * it and tells whoever listens. A request of a merchant and type this instance measured as slow
 * is handed to the slow lane instead, before it is claimed, so it never holds a batch of quiet ones.
 * The webhook fan-outs of a batch's records share their SendMessageBatch calls.
 */
export const handler = sqsConsumer({ describe: 'request', parse: parseRequestMessage }, async ({ message, receiveCount, receiptHandle, log, logOutcome, source, traceId }) => {
  const about = { requestId: message.requestId };
  const slowLane = slowLaneQueue();
  const inSlowLane = fromSlowLane(source);
  if (slowLane && !inSlowLane && lanes().isSlow(message, new Date())) {
    // Sent before this message is deleted: a failed send leaves it here, to be received again.
    await slowLane.queue.enqueue(message, traceId);
    log.info('Handed to the slow lane', { ...about, merchantId: message.merchantId, type: message.type });
    return;
  }
  const started = Date.now();
  const measured = containerWarm;
  const dependencies = inSlowLane ? slowLaneDependencies() : processDependencies();
  const outcome = await processRequest(dependencies, { requestId: message.requestId, type: message.type, receiveCount, receiptHandle });
  containerWarm = true;
  if (measured && outcome.kind !== 'skipped') lanes().record(message, Date.now() - started, new Date());
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
      logOutcome(`Request ${outcome.kind}`, { ...about, attempts: outcome.request.attempts });
  }
}, { perBatch: gatherDeliverySends });
