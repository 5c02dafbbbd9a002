import { ENV, defaults, retryScheduleOf, type QueueName } from '../../../lib/topology';
import { dynamoClient, requiredEnv, sqsClient } from '../../adapters/aws-clients';
import { DynamoMerchantStore } from '../../adapters/dynamo-merchant-store';
import { DynamoRedriveLog } from '../../adapters/dynamo-redrive-log';
import { DynamoRequestStore } from '../../adapters/dynamo-request-store';
import { DynamoWalletLedger } from '../../adapters/dynamo-wallet-ledger';
import { SqsRequestQueue } from '../../adapters/sqs-request-queue';

/**
 * The adapters a handler needs, built on first use from the environment and then reused for
 * the life of the Lambda container. Reading the environment lazily (not at import) lets the
 * local runtime and tests set it before the first invocation.
 */
let cached: { requestStore?: DynamoRequestStore; merchantStore?: DynamoMerchantStore; requestQueue?: SqsRequestQueue } = {};

export function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? NaN : Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : fallback;
}

export const settings = {
  retryScale: () => numberFromEnv(ENV.retryScale, 1),
  idempotencyKeyTtlHours: () => numberFromEnv(ENV.idempotencyKeyTtlHours, defaults.idempotencyKeyTtlHours),
  requestRetentionDays: () => numberFromEnv(ENV.requestRetentionDays, defaults.requestRetentionDays),
  /**
   * The retry schedule of a queue's consumer: the topology's unless the stack's props overrode it
   * (HERALD_REQUEST_* / HERALD_DELIVERY_* variables). Its `maxAttempts` is the queue's
   * maxReceiveCount. A malformed value throws rather than silently disagreeing with the queue.
   */
  retrySchedule: (queue: QueueName) => retryScheduleOf(queue, process.env),
  sweep: () => ({
    unenqueuedAfterSeconds: numberFromEnv(ENV.sweepUnenqueuedAfterSeconds, defaults.sweepUnenqueuedAfterSeconds),
    staleEnqueueAfterSeconds: numberFromEnv(ENV.sweepStaleEnqueueAfterSeconds, defaults.sweepStaleEnqueueAfterSeconds),
    batchLimit: defaults.sweepBatchLimit,
  }),
};

export function requestStore(): DynamoRequestStore {
  cached.requestStore ??= new DynamoRequestStore(dynamoClient(), requiredEnv(ENV.tableName), settings.requestRetentionDays());
  return cached.requestStore;
}

export function merchantStore(): DynamoMerchantStore {
  cached.merchantStore ??= new DynamoMerchantStore(dynamoClient(), requiredEnv(ENV.tableName));
  return cached.merchantStore;
}

export function requestQueue(): SqsRequestQueue {
  cached.requestQueue ??= new SqsRequestQueue(sqsClient(), requiredEnv(ENV.requestsQueueUrl));
  return cached.requestQueue;
}

let walletLedgerInstance: DynamoWalletLedger | undefined;
let redriveLogInstance: DynamoRedriveLog | undefined;

/** Wallet balances and their ledger, for processors that move money (through their context's services). */
export function walletLedger(): DynamoWalletLedger {
  walletLedgerInstance ??= new DynamoWalletLedger(dynamoClient(), requiredEnv(ENV.tableName));
  return walletLedgerInstance;
}

/** The redrive generations the worker compares a failed request with. */
export function redriveLog(): DynamoRedriveLog {
  redriveLogInstance ??= new DynamoRedriveLog(dynamoClient(), requiredEnv(ENV.tableName));
  return redriveLogInstance;
}
