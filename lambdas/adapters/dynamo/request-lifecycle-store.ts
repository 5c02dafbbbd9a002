import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ApplyOutcome, ApplyReads, RequestTransitions } from '../../core/requests/ports';
import { isTerminal } from '../../core/requests/request';
import type { LifecyclePolicy, Transition } from '../../core/requests/lifecycle-events';
import { unlessConditionFails } from './conditions';
import { requestFromItem, type Item } from './keys';
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
   * A large result goes to its own item first, named by the attempt the precondition holds (only
   * the worker holding it writes there); if the write then loses its condition, that item is an
   * orphan its TTL removes.
   */
  async apply(id: string, transition: Transition, reads: ApplyReads = {}): Promise<ApplyOutcome> {
    const { result } = transition.set;
    const apart = result !== undefined && storedApart(result);
    const resultRef = transition.precondition.attempts;
    if (apart) await this.bodies.putResult(id, resultRef, result);
    const { written, current } = await this.write(id, transition, apart ? { resultRef } : {});
    if (written) {
      const request = reads.payload ? await this.bodies.withPayload(written) : requestFromItem(written);
      return { outcome: 'applied', request: apart ? { ...request, result } : request };
    }
    if (!current) return { outcome: 'lost' };
    const finished = isTerminal(requestFromItem(current).status);
    return { outcome: 'lost', current: reads.resultOfFinished && finished ? await this.bodies.withResult(current) : requestFromItem(current) };
  }

  /** One conditional UpdateItem: the item as written, or as it stood when the condition failed. */
  private async write(id: string, transition: Transition, stored: { resultRef?: number }): Promise<{ written?: Item; current?: Item }> {
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
