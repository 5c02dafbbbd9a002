import { PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CreateOutcome, RequestIntake } from '../../core/requests/ports';
import type { HeraldRequest } from '../../core/requests/request';
import { unlessConditionFails } from './conditions';
import { storedApart, type RequestBodies } from './request-bodies';
import { createOrderedRequest } from './ordered-intake';
import { fingerprintFromItem, keys, requestFromItem, submissionToItem } from './keys';

/**
 * Submissions: one conditional PutItem of the request item, whose id derives from the merchant and
 * its idempotency key, so the write that stores a request is also the one that refuses a second
 * request under the same key. A replay costs that one refused write and no read: the refusal
 * carries the stored item.
 */
export class DynamoRequestIntake implements RequestIntake {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly bodies: RequestBodies,
    /** How long an ordering key's numbers are kept after its last submission: as long as its requests. */
    private readonly retentionDays = 30,
  ) {}

  /**
   * Stores a new request with its body's fingerprint. When its id is already taken, returns the
   * stored request and fingerprint: the caller compares fingerprints and replays or refuses.
   * Concurrent first submissions race on the same condition; exactly one wins and the others
   * read the winner's item off their refusal, so there is no state in which a key is "in flight".
   * The key stays bound for as long as the request is kept (until its TTL deletes it).
   *
   * A large payload is written first, to an object or item of its own named by the fingerprint: a replay
   * with another body writes beside it rather than over it, and is then refused by the request's
   * condition; a crash between the two writes leaves an orphan its TTL removes.
   */
  async create(request: HeraldRequest, fingerprint: string): Promise<CreateOutcome> {
    const apart = storedApart(request.payload)
      ? await this.bodies.putPayload({ merchantId: request.merchantId, requestId: request.id }, fingerprint, request.payload)
      : undefined;
    if (request.orderingKey !== undefined) {
      const expiresAt = Math.floor(Date.parse(request.createdAt) / 1000) + this.retentionDays * 86_400;
      return createOrderedRequest(this.client, this.tableName, submissionToItem(request, fingerprint, apart), {
        merchantId: request.merchantId,
        key: request.orderingKey,
        expiresAt,
      });
    }
    return unlessConditionFails(
      async (): Promise<CreateOutcome> => {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: submissionToItem(request, fingerprint, apart),
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { outcome: 'created' };
      },
      ({ current }): CreateOutcome => {
        // A refusal always carries the item here (the condition fails only when it exists).
        if (!current) throw new Error(`Request ${request.id} exists but the refusal carried no item`);
        return { outcome: 'exists', request: requestFromItem(current), fingerprint: fingerprintFromItem(current) };
      },
    );
  }

  /**
   * Clears the enqueue mark after a failed SendMessage, so that a replay of the key or the
   * sweeper knows the request still has to be enqueued.
   */
  async markNotEnqueued(requestId: string): Promise<void> {
    await this.setEnqueued(requestId, undefined);
  }

  /** Records that a replay put a request whose first enqueue failed on the queue after all. */
  async markEnqueued(requestId: string, at: string): Promise<void> {
    await this.setEnqueued(requestId, at);
  }

  private async setEnqueued(requestId: string, at: string | undefined): Promise<void> {
    const update = at
      ? { UpdateExpression: 'SET enqueuedAt = :at', ExpressionAttributeValues: { ':at': at } }
      : { UpdateExpression: 'REMOVE enqueuedAt' };
    await unlessConditionFails(
      () =>
        this.client.send(
          // The condition keeps a mark from creating a bare item for a request that is gone.
          new UpdateCommand({ TableName: this.tableName, Key: keys.request(requestId), ConditionExpression: 'attribute_exists(pk)', ...update }),
        ),
      () => undefined,
    );
  }
}
