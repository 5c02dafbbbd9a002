import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ApplyOutcome, ApplyReads, RequestTransitions } from '../../core/requests/ports';
import { isTerminal } from '../../core/requests/request';
import type { LifecyclePolicy, Transition } from '../../core/requests/lifecycle-events';
import { unlessConditionFails } from './conditions';
import { keys, requestFromItem, type Item } from './keys';
import { storedApart, type RequestBodies } from './request-bodies';
import { renderTransition } from './render-transition';

/**
 * The request lifecycle in DynamoDB: writes a transition core decided as one conditional
 * UpdateItem. A lost condition comes back with the item as it now is; what to do about it is the
 * use case's decision.
 */
export class DynamoRequestLifecycle implements RequestTransitions {
  readonly policy: LifecyclePolicy;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    retentionDays: number,
    private readonly bodies: RequestBodies,
  ) {
    this.policy = { retentionDays };
  }

  /**
   * A large result goes to its own object or item first, named by the attempt the precondition
   * holds (only the worker holding it writes there); if the write then loses its condition, that
   * body is an orphan its TTL or the bucket's lifecycle rule removes. Its object is keyed by the
   * request's merchant, which a finish does not carry: one read of that attribute finds it.
   */
  async apply(id: string, transition: Transition, reads: ApplyReads = {}): Promise<ApplyOutcome> {
    const { result } = transition.set;
    const resultRef = transition.precondition.attempts;
    const merchantId = transition.precondition.merchantId;
    const apart =
      result !== undefined && storedApart(result)
        ? await this.bodies.putResult({ merchantId: merchantId ?? (await this.ownerOf(id)), requestId: id }, resultRef, result)
        : undefined;
    const { written, current } = await this.write(id, transition, apart ? { resultRef, resultInObject: apart.inObject } : {});
    if (written) {
      const request = reads.payload ? await this.bodies.withPayload(written) : requestFromItem(written);
      return { outcome: 'applied', request: apart ? { ...request, result } : request };
    }
    if (!current) return { outcome: 'lost' };
    const finished = isTerminal(requestFromItem(current).status);
    return { outcome: 'lost', current: reads.resultOfFinished && finished ? await this.bodies.withResult(current) : requestFromItem(current) };
  }

  /** The merchant a request belongs to, which never changes once written: an eventually consistent read is enough. */
  private async ownerOf(id: string): Promise<string> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.request(id), ProjectionExpression: 'merchantId', ConsistentRead: false }),
    );
    if (typeof Item?.merchantId !== 'string') throw new Error(`Request ${id} has no stored item to keep its result beside`);
    return Item.merchantId;
  }

  /** One conditional UpdateItem: the item as written, or as it stood when the condition failed. */
  private async write(id: string, transition: Transition, stored: { resultRef?: number; resultInObject?: boolean }): Promise<{ written?: Item; current?: Item }> {
    return unlessConditionFails(
      async () => {
        const { Attributes } = await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            ...renderTransition(id, transition, stored),
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { written: Attributes! };
      },
      ({ current }) => (current ? { current } : {}),
    );
  }
}
