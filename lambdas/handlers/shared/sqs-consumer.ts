import { AsyncLocalStorage } from 'node:async_hooks';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { TRACE_ID_ATTRIBUTE } from '../../adapters/sqs-request-queue';
import { invocationLogContext, metricsFlush } from './middlewares';
import { logger, logRequestOutcome } from './observability';

/** One message of a batch as its record handler sees it. */
export interface ConsumedMessage<M> {
  readonly message: M;
  /** SQS's receive count: 1 on the first delivery, the attempt number after that. */
  readonly receiveCount: number;
  /** What a consumer needs to change the message's visibility (its backoff). */
  readonly receiptHandle: string;
  /** The function's logger with the message id and the trace id it was sent with on every line. */
  readonly log: Logger;
  /**
   * The record's one INFO line on its happy path: the record that closes the batch (the last to
   * write its line or finish) also carries the batch's metrics in it (`logRequestOutcome`), so no
   * metrics line of its own is written.
   */
  readonly logOutcome: (message: string, attributes: LogAttributes) => void;
  readonly context: Context;
  /** The ARN of the queue the message came from: a consumer of two queues (a slow lane) tells them apart by it. */
  readonly source: string;
  /** The trace id the message was sent with, for a consumer that sends it on. */
  readonly traceId?: string;
}

/**
 * The record being handled, for dependencies built once per container: records of a batch run
 * concurrently, so each one's logger and invocation context travel with its own async calls.
 */
const recordScope = new AsyncLocalStorage<Pick<ConsumedMessage<unknown>, 'log' | 'context'>>();

/** The logger of the record being handled (its message and trace ids on every line), or the function's outside one. */
export function recordLogger(): Logger {
  return recordScope.getStore()?.log ?? logger;
}

/** The invocation context of the record being handled; undefined outside one. */
export function recordContext(): Context | undefined {
  return recordScope.getStore()?.context;
}

/** A record handler's way to say the message must come back (after its backoff, or on to the DLQ). */
export interface Redelivery {
  readonly redeliver: string;
}

export const redeliver = (reason: string): Redelivery => ({ redeliver: reason });

export type RecordHandler<M> = (consumed: ConsumedMessage<M>) => Promise<Redelivery | void>;

export interface QueueMessageFormat<M> {
  /** What the message is called in the log line of one that cannot be read. */
  readonly describe: string;
  /** The message, or undefined when the body is not one. */
  readonly parse: (body: string) => M | undefined;
}

/**
 * Something that lives as long as one batch, shared by its records (the process worker's gathered
 * delivery sends): it runs each record's work within it and hears when each record is done.
 */
export interface BatchCompanion {
  within<T>(work: () => Promise<T>): Promise<T>;
  recordSettled(): void;
}

export interface ConsumerOptions {
  /** Built once per batch, from its number of records. */
  readonly perBatch?: (records: number) => BatchCompanion;
}

/** How a redelivery reaches Powertools: a record is reported as failed only by throwing. */
class RedeliveryRequested extends Error {
  override readonly name = 'RedeliveryRequested';
}

/** How much of an unreadable body the log line quotes. */
const UNREADABLE_BODY_CHARS = 200;

/**
 * Wraps one record handler into an SQS-triggered Lambda handler: the function's context on every
 * log line, each record handled on its own (one bad record never fails its neighbours) and
 * concurrently, records that must come back reported through `batchItemFailures`, unreadable
 * messages dropped loudly, and the invocation's metrics written out whatever happens.
 *
 * @example
 * export const handler = sqsConsumer({ describe: 'request', parse: parseRequestMessage }, async ({ message, log }) => {
 *   log.info('Working', { requestId: message.requestId });
 * });
 */
export function sqsConsumer<M>(format: QueueMessageFormat<M>, handleRecord: RecordHandler<M>, options: ConsumerOptions = {}) {
  // No early timeout from middy: the use cases bound their work by the remaining time themselves,
  // and failing the whole batch at the deadline would also redeliver records that already finished.
  return middy<SQSEvent, SQSBatchResponse>({ timeoutEarlyInMillis: 0 })
    .use(invocationLogContext())
    .use(metricsFlush())
    .handler(async (event, context) => {
      // One processor per invocation: it holds the batch's results, and the local runtime runs
      // several batches of one handler at once in one process (on AWS a container runs one).
      const batch = new BatchProcessor(EventType.SQS);
      const companion = options.perBatch?.(event.Records.length);
      const open: OpenRecords = { records: event.Records.length };
      const handleOne = (record: SQSRecord) => consume(format, handleRecord, record, context, open);
      const handle = companion
        ? (record: SQSRecord) => companion.within(() => handleOne(record)).finally(() => companion.recordSettled())
        : handleOne;
      return processPartialResponse(event, handle, batch, {
        context,
        // Report every record instead of throwing, so a fully failed batch keeps the backoff each record chose.
        throwOnFullBatchFailure: false,
      });
    });
}

/** How many records of a batch have neither written their outcome line nor finished. */
interface OpenRecords {
  records: number;
}

async function consume<M>(format: QueueMessageFormat<M>, handleRecord: RecordHandler<M>, record: SQSRecord, context: Context, open: OpenRecords): Promise<void> {
  let closed = false;
  const close = () => {
    if (!closed) open.records--;
    closed = true;
  };
  try {
    await consumeOpen(format, handleRecord, record, context, open, close);
  } finally {
    close();
  }
}

async function consumeOpen<M>(
  format: QueueMessageFormat<M>,
  handleRecord: RecordHandler<M>,
  record: SQSRecord,
  context: Context,
  open: OpenRecords,
  close: () => void,
): Promise<void> {
  const traceId = record.messageAttributes?.[TRACE_ID_ATTRIBUTE]?.stringValue;
  const log = logger.createChild({ persistentKeys: { messageId: record.messageId, ...(traceId ? { traceId } : {}) } });
  const message = format.parse(record.body);
  if (message === undefined) {
    // Redelivering a message nobody can read would fail the same way every time.
    log.error(`Dropping an unreadable ${format.describe} message`, { body: record.body.slice(0, UNREADABLE_BODY_CHARS) });
    return;
  }
  const outcome = await recordScope.run({ log, context }, () =>
    handleRecord({
      message,
      receiveCount: Number(record.attributes.ApproximateReceiveCount ?? '1'),
      receiptHandle: record.receiptHandle,
      log,
      // Records a batch releases together (the gathered delivery send) write their lines in one go:
      // the one that closes the batch is the last of them, whose line no later count can miss.
      logOutcome: (message, attributes) => {
        close();
        logRequestOutcome(log, message, attributes, open.records === 0);
      },
      context,
      source: record.eventSourceARN,
      ...(traceId ? { traceId } : {}),
    }),
  );
  if (outcome) throw new RedeliveryRequested(outcome.redeliver);
}
