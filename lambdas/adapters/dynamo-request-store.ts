import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { table } from '../../lib/topology';
import { IdempotencyKeyInFlightError } from '../core/errors';
import type {
  AttemptOutcome,
  CancelOutcome,
  ClaimOutcome,
  CreateOutcome,
  IdempotencyRecord,
  ListPosition,
  RequestCancellation,
  RequestListing,
  RequestPage,
  RequestStore,
  StuckRequestStore,
} from '../core/ports';
import type { RedriveReopener } from '../core/redrive';
import {
  appendHistory,
  isTerminal,
  type HeraldRequest,
  type HistoryEntry,
  type RequestStatus,
} from '../core/request';

const REQUEST_SK = 'REQ';
const IDEMPOTENCY_SK = 'IDEM';

export const requestKey = (id: string) => ({ pk: `REQ#${id}`, sk: REQUEST_SK });
export const idempotencyKey = (merchantId: string, key: string) => ({ pk: `IDEM#${merchantId}#${key}`, sk: IDEMPOTENCY_SK });

const epochSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/**
 * Requests and their idempotency keys in the single table. Every state change is one
 * conditional write that also appends the history row; a lost condition becomes a domain
 * outcome (`lost`, `exists`) rather than an SDK exception.
 */
export class DynamoRequestStore implements RequestStore, RequestListing, RequestCancellation, StuckRequestStore, RedriveReopener {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly requestRetentionDays: number,
  ) {}

  /**
   * Stores a new request and its idempotency key in one transaction, so neither can exist
   * without the other. When the key is already taken (and not expired), returns its record:
   * the caller compares fingerprints and replays. Concurrent first submissions race on the
   * key's condition; the losers wait for the winner's record and replay it.
   */
  async create(request: HeraldRequest, record: IdempotencyRecord): Promise<CreateOutcome> {
    for (let round = 0; round < 5; round++) {
      try {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: { ...idempotencyKey(record.merchantId, record.key), ...record },
                  // DynamoDB deletes expired items lazily (and DynamoDB Local never does): an expired key is free.
                  ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
                  ExpressionAttributeValues: { ':now': Math.floor(Date.now() / 1000) },
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              },
              {
                Put: {
                  TableName: this.tableName,
                  Item: this.toItem(request),
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
            ],
          }),
        );
        return { outcome: 'created' };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const [keyReason] = error.CancellationReasons ?? [];
        if (keyReason?.Code === 'ConditionalCheckFailed' && keyReason.Item) {
          return { outcome: 'exists', record: unmarshallRecord(keyReason.Item) };
        }
        // A concurrent transaction on the same key: wait for it to commit, then replay its record.
        await sleep(20 + Math.random() * 60 * (round + 1));
        const existing = await this.findIdempotencyRecord(record.merchantId, record.key);
        if (existing) return { outcome: 'exists', record: existing };
      }
    }
    throw new IdempotencyKeyInFlightError(record.key);
  }

  async findIdempotencyRecord(merchantId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: idempotencyKey(merchantId, key), ConsistentRead: true }),
    );
    if (!Item || (Item.expiresAt as number) < Math.floor(Date.now() / 1000)) return undefined;
    return Item as IdempotencyRecord;
  }

  /**
   * Clears the enqueue mark on both items after a failed SendMessage, so that a replay of the
   * key or the sweeper knows the request still has to be enqueued.
   */
  async markNotEnqueued(record: IdempotencyRecord): Promise<void> {
    await this.setEnqueued(record, undefined);
  }

  async markEnqueued(record: IdempotencyRecord, at: string): Promise<void> {
    await this.setEnqueued(record, at);
  }

  private async setEnqueued(record: IdempotencyRecord, at: string | undefined): Promise<void> {
    const update = at
      ? { UpdateExpression: 'SET enqueuedAt = :at', ExpressionAttributeValues: { ':at': at } }
      : { UpdateExpression: 'REMOVE enqueuedAt' };
    await this.client.send(
      new TransactWriteCommand({
        TransactItems: [
          { Update: { TableName: this.tableName, Key: idempotencyKey(record.merchantId, record.key), ...update } },
          { Update: { TableName: this.tableName, Key: requestKey(record.requestId), ...update } },
        ],
      }),
    );
  }

  /** A request by id, whoever owns it; callers facing merchants use `getForMerchant`. */
  async get(id: string): Promise<HeraldRequest | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: requestKey(id), ConsistentRead: true }),
    );
    return Item ? fromItem(Item) : undefined;
  }

  /** A request only if it belongs to the merchant: another tenant's id is indistinguishable from an unknown one. */
  async getForMerchant(merchantId: string, id: string): Promise<HeraldRequest | undefined> {
    const request = await this.get(id);
    return request?.merchantId === merchantId ? request : undefined;
  }

  /**
   * Takes the request for one attempt: `accepted → processing`, or a `processing` request whose
   * lease ran out (its worker died or timed out). The lease keeps a second delivery of the same
   * message from running the work twice while the first is alive.
   *
   * The first try guesses the attempt count (the caller passes the message's receive count − 1),
   * which is right on the common path and saves a read; a wrong guess costs one more write,
   * conditioned on the version the failed condition returned.
   */
  async claim(id: string, leaseMs: number, expectedAttempts: number, now = new Date()): Promise<ClaimOutcome> {
    const at = now.toISOString();
    const leaseUntil = new Date(now.getTime() + leaseMs).toISOString();
    const first = await this.tryClaim(id, { status: 'accepted', attempts: expectedAttempts }, at, leaseUntil);
    if (first.outcome === 'claimed' || !first.current) return first;
    const current = first.current;
    const leaseExpired = current.status === 'processing' && (!current.leaseUntil || current.leaseUntil < at);
    if (current.status === 'accepted' || leaseExpired) {
      return this.tryClaim(id, { status: current.status, attempts: current.attempts, version: current.version }, at, leaseUntil);
    }
    return first;
  }

  private async tryClaim(
    id: string,
    expected: { status: RequestStatus; attempts: number; version?: number },
    at: string,
    leaseUntil: string,
  ): Promise<ClaimOutcome> {
    const entry: HistoryEntry = {
      from: expected.status,
      to: 'processing',
      at,
      attempt: expected.attempts + 1,
      ...(expected.status === 'processing' ? { reason: 'lease expired; the previous attempt was abandoned' } : {}),
    };
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: requestKey(id),
          ConditionExpression:
            'attribute_exists(pk) AND #status = :expected AND attempts = :attempts' +
            (expected.version !== undefined ? ' AND version = :version' : ''),
          UpdateExpression:
            'SET #status = :processing, version = version + :one, attempts = :attempt, leaseUntil = :lease, ' +
            'updatedAt = :at, gsi2pk = :gsi2pk, gsi2sk = :gsi2sk, history = list_append(history, :entry) REMOVE nextAttemptAt',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':expected': expected.status,
            ':attempts': expected.attempts,
            ':attempt': expected.attempts + 1,
            ':processing': 'processing',
            ':one': 1,
            ':lease': leaseUntil,
            ':at': at,
            ':gsi2pk': 'STATUS#processing',
            ':gsi2sk': `${leaseUntil}#${id}`,
            ':entry': [entry],
            ...(expected.version !== undefined ? { ':version': expected.version } : {}),
          },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { outcome: 'claimed', request: fromItem(Attributes!) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (!error.Item) return { outcome: 'lost', reason: 'request not found' };
      const current = fromItem(unmarshallRaw(error.Item));
      return { outcome: 'lost', reason: lostReason(current, at), current };
    }
  }

  /**
   * Ends the attempt the caller holds: to `succeeded` or `failed` (terminal), or back to
   * `accepted` to wait for a retry. Conditional on the claimed version, so a worker whose lease
   * was taken over cannot overwrite the newer attempt. Returns the stored request, or undefined
   * when the attempt was superseded.
   */
  async finishAttempt(
    claimed: HeraldRequest,
    to: Exclude<RequestStatus, 'processing' | 'cancelled'>,
    outcome: AttemptOutcome,
    now = new Date(),
  ): Promise<HeraldRequest | undefined> {
    const at = now.toISOString();
    const withSteps = (outcome.steps ?? []).reduce<HistoryEntry[]>((rows, step) => appendHistory(rows, step), [...claimed.history]);
    const history = appendHistory(withSteps, {
      from: 'processing',
      to,
      at,
      attempt: claimed.attempts,
      ...(outcome.reason ? { reason: outcome.reason } : {}),
    });
    const terminal = isTerminal(to);
    const sets = ['#status = :to', 'version = version + :one', 'updatedAt = :at', 'history = :history'];
    const removes = ['leaseUntil'];
    const values: Record<string, unknown> = { ':to': to, ':one': 1, ':at': at, ':history': history, ':processing': 'processing', ':version': claimed.version };
    if (outcome.result !== undefined) {
      sets.push('#result = :result');
      values[':result'] = outcome.result;
    }
    if (outcome.error) {
      sets.push('#error = :error');
      values[':error'] = outcome.error;
    } else if (to === 'succeeded') {
      removes.push('#error');
    }
    if (outcome.nextAttemptAt) {
      sets.push('nextAttemptAt = :next');
      values[':next'] = outcome.nextAttemptAt;
    }
    if (terminal) {
      // Terminal requests leave the sweeper's sparse index and expire after the retention period.
      removes.push('gsi2pk', 'gsi2sk');
      sets.push('expiresAt = :expires');
      values[':expires'] = epochSeconds(at) + this.requestRetentionDays * 86_400;
    } else {
      sets.push('gsi2pk = :gsi2pk', 'gsi2sk = :gsi2sk');
      values[':gsi2pk'] = `STATUS#${to}`;
      values[':gsi2sk'] = `${outcome.nextAttemptAt ?? at}#${claimed.id}`;
    }
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: requestKey(claimed.id),
          ConditionExpression: '#status = :processing AND version = :version',
          UpdateExpression: `SET ${sets.join(', ')} REMOVE ${removes.join(', ')}`,
          ExpressionAttributeNames: {
            '#status': 'status',
            ...(outcome.result !== undefined ? { '#result': 'result' } : {}),
            ...(outcome.error || to === 'succeeded' ? { '#error': 'error' } : {}),
          },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(Attributes!);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /**
   * A merchant's requests, newest first, from the byMerchant index. With a status filter,
   * DynamoDB filters after reading, so a page may take several queries; the work per call is
   * capped and a short page then still carries a cursor to continue from.
   */
  async listForMerchant(
    merchantId: string,
    query: { status?: RequestStatus; limit: number; after?: ListPosition },
  ): Promise<RequestPage> {
    const index = table.indexes.byMerchant;
    const found: HeraldRequest[] = [];
    let startKey: Record<string, unknown> | undefined = query.after
      ? {
          ...requestKey(query.after.id),
          [index.partitionKey]: `MER#${merchantId}`,
          [index.sortKey]: `${query.after.createdAt}#${query.after.id}`,
        }
      : undefined;
    for (let round = 0; round < LIST_MAX_QUERIES; round++) {
      const { Items = [], LastEvaluatedKey } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index.name,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': index.partitionKey, ...(query.status ? { '#status': 'status' } : {}) },
          ExpressionAttributeValues: { ':pk': `MER#${merchantId}`, ...(query.status ? { ':status': query.status } : {}) },
          ...(query.status ? { FilterExpression: '#status = :status' } : {}),
          ScanIndexForward: false,
          // One more than asked tells whether another page exists without a second query.
          Limit: query.status ? LIST_FILTERED_READ : query.limit + 1,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      found.push(...Items.map(fromItem));
      if (found.length > query.limit) {
        const requests = found.slice(0, query.limit);
        const last = requests[requests.length - 1]!;
        return { requests, next: { createdAt: last.createdAt, id: last.id } };
      }
      if (!LastEvaluatedKey) return { requests: found };
      startKey = LastEvaluatedKey;
    }
    const [createdAt, id] = splitSortKey(String(startKey![index.sortKey]));
    return { requests: found, next: { createdAt, id } };
  }

  /**
   * `accepted → cancelled`, conditional on the owner and the status. Like `claim`, the first
   * write guesses the attempt count for the history row (0: never tried); a wrong guess costs
   * a second write conditioned on the version the failed one returned.
   */
  async cancel(merchantId: string, id: string, now = new Date()): Promise<CancelOutcome> {
    const at = now.toISOString();
    let expected: { attempts: number; version?: number } = { attempts: 0 };
    for (let round = 0; round < 3; round++) {
      const entry: HistoryEntry = { from: 'accepted', to: 'cancelled', at, attempt: expected.attempts, reason: 'cancelled by the merchant' };
      try {
        const { Attributes } = await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: requestKey(id),
            ConditionExpression:
              'merchantId = :merchant AND #status = :accepted AND attempts = :attempts' +
              (expected.version !== undefined ? ' AND version = :version' : ''),
            UpdateExpression:
              'SET #status = :cancelled, version = version + :one, updatedAt = :at, expiresAt = :expires, ' +
              'history = list_append(history, :entry) REMOVE gsi2pk, gsi2sk, leaseUntil, nextAttemptAt',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':merchant': merchantId,
              ':accepted': 'accepted',
              ':attempts': expected.attempts,
              ':cancelled': 'cancelled',
              ':one': 1,
              ':at': at,
              ':expires': epochSeconds(at) + this.requestRetentionDays * 86_400,
              ':entry': [entry],
              ...(expected.version !== undefined ? { ':version': expected.version } : {}),
            },
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { outcome: 'cancelled', request: fromItem(Attributes!) };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const current = error.Item ? fromItem(unmarshallRaw(error.Item)) : undefined;
        if (!current || current.merchantId !== merchantId) return { outcome: 'not-found' };
        if (current.status !== 'accepted') return { outcome: 'conflict', current };
        expected = { attempts: current.attempts, version: current.version };
      }
    }
    const current = await this.get(id);
    return current ? { outcome: 'conflict', current } : { outcome: 'not-found' };
  }

  /** `accepted` requests changed before `changedBefore`, never enqueued or enqueued before `enqueuedBefore` (byStatus index). */
  async findUnqueued(query: { changedBefore: string; enqueuedBefore: string; limit: number }): Promise<HeraldRequest[]> {
    return this.queryByStatus('accepted', query.changedBefore, query.limit, {
      FilterExpression: 'attribute_not_exists(enqueuedAt) OR enqueuedAt < :enqueuedBefore',
      ExpressionAttributeValues: { ':enqueuedBefore': query.enqueuedBefore },
    });
  }

  /** `processing` requests whose lease ended before `before`: the index sorts them by lease end. */
  async findLeaseExpired(query: { before: string; limit: number }): Promise<HeraldRequest[]> {
    return this.queryByStatus('processing', query.before, query.limit);
  }

  /** Marks a still-`accepted` request as enqueued at `at`; a request that moved on meanwhile is left alone. */
  async markResent(id: string, at: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: requestKey(id),
          ConditionExpression: '#status = :accepted',
          UpdateExpression: 'SET enqueuedAt = :at',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':accepted': 'accepted', ':at': at },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  private async queryByStatus(
    status: RequestStatus,
    before: string,
    limit: number,
    filter?: { FilterExpression: string; ExpressionAttributeValues: Record<string, unknown> },
  ): Promise<HeraldRequest[]> {
    const index = table.indexes.byStatus;
    const found: HeraldRequest[] = [];
    let startKey: Record<string, unknown> | undefined;
    let pages = 0;
    do {
      const page: { Items?: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index.name,
          // gsi2sk is `<time>#<id>`: comparing it with a bare time selects everything strictly earlier.
          KeyConditionExpression: '#pk = :pk AND #sk < :before',
          ExpressionAttributeNames: { '#pk': index.partitionKey, '#sk': index.sortKey },
          ExpressionAttributeValues: { ':pk': `STATUS#${status}`, ':before': before, ...filter?.ExpressionAttributeValues },
          ...(filter ? { FilterExpression: filter.FilterExpression } : {}),
          Limit: limit,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      found.push(...(page.Items ?? []).map(fromItem));
      startKey = page.LastEvaluatedKey;
      pages++;
      // A long healthy backlog is read only to be filtered out: the cap keeps one run short, and
      // a stuck request behind it is reached as the backlog ahead of it (older rows) drains.
    } while (startKey && found.length < limit && pages < SWEEP_MAX_QUERIES);
    return found.slice(0, limit);
  }

  /**
   * Reopens a request whose attempts ran out, after an operator redrove its message:
   * `failed → accepted`, attempts back to 0 for a new round, the error and expiry cleared, and a
   * `redriven` history row, in one write conditional on the version read. Two copies of the
   * message race on that condition; the loser gets undefined and its claim then loses as well.
   */
  async reopenForRedrive(failed: HeraldRequest, generation: number, now = new Date()): Promise<HeraldRequest | undefined> {
    const at = now.toISOString();
    const history = appendHistory(failed.history, {
      from: 'failed',
      to: 'accepted',
      at,
      attempt: failed.attempts,
      reason: 'redriven',
    });
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: requestKey(failed.id),
          ConditionExpression: '#status = :failed AND version = :version',
          UpdateExpression:
            'SET #status = :accepted, version = version + :one, attempts = :zero, updatedAt = :at, history = :history, ' +
            // The redriven message is on the queue now: the sweeper must not take the request for a lost enqueue.
            'redriveGeneration = :generation, enqueuedAt = :at, gsi2pk = :gsi2pk, gsi2sk = :gsi2sk REMOVE #error, expiresAt, nextAttemptAt, leaseUntil',
          ExpressionAttributeNames: { '#status': 'status', '#error': 'error' },
          ExpressionAttributeValues: {
            ':failed': 'failed',
            ':accepted': 'accepted',
            ':version': failed.version,
            ':one': 1,
            ':zero': 0,
            ':at': at,
            ':history': history,
            ':generation': generation,
            ':gsi2pk': 'STATUS#accepted',
            ':gsi2sk': `${at}#${failed.id}`,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(Attributes!);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  toItem(request: HeraldRequest): Record<string, unknown> {
    return {
      ...requestKey(request.id),
      ...request,
      gsi1pk: `MER#${request.merchantId}`,
      gsi1sk: `${request.createdAt}#${request.id}`,
      ...(isTerminal(request.status) ? {} : { gsi2pk: `STATUS#${request.status}`, gsi2sk: `${request.updatedAt}#${request.id}` }),
    };
  }
}

/** Queries one page of a filtered list may take before answering with a short page and a cursor. */
const LIST_MAX_QUERIES = 5;
/** Items read per query while filtering by status. */
const LIST_FILTERED_READ = 200;
/** Queries one sweep may make per status. */
const SWEEP_MAX_QUERIES = 20;

function splitSortKey(sortKey: string): [string, string] {
  const at = sortKey.lastIndexOf('#');
  return [sortKey.slice(0, at), sortKey.slice(at + 1)];
}

function lostReason(current: HeraldRequest, at: string): string {
  if (isTerminal(current.status)) return `request is already ${current.status}`;
  if (current.status === 'processing' && current.leaseUntil && current.leaseUntil >= at) {
    return `another attempt holds the lease until ${current.leaseUntil}`;
  }
  return `request changed concurrently (status ${current.status})`;
}

const INTERNAL_ATTRIBUTES = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'expiresAt'] as const;

function fromItem(item: Record<string, unknown>): HeraldRequest {
  const request: Record<string, unknown> = { ...item };
  for (const attribute of INTERNAL_ATTRIBUTES) delete request[attribute];
  return request as unknown as HeraldRequest;
}

// The transaction and condition-failure paths hand back raw AttributeValues, not document-client objects.
function unmarshallRaw(item: Record<string, unknown>): Record<string, unknown> {
  return unmarshall(item as Parameters<typeof unmarshall>[0]);
}
function unmarshallRecord(item: Record<string, unknown>): IdempotencyRecord {
  const { pk: _pk, sk: _sk, ...record } = unmarshallRaw(item);
  return record as unknown as IdempotencyRecord;
}
