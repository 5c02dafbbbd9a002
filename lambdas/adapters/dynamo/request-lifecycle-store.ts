import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AttemptOutcome, CancelOutcome, ClaimOutcome, ClaimTerms, RequestClaims } from '../../core/requests/ports';
import type { RedriveReopener } from '../../core/requests/redrive';
import type { HeraldRequest, RequestStatus } from '../../core/requests/request';
import {
  decide,
  describeLoss,
  finishEvent,
  type LifecycleEvent,
  type LifecyclePolicy,
  type Transition,
} from '../../core/requests/request-lifecycle';
import { unlessConditionFails } from './conditions';
import { keys, requestFromItem, type Item } from './keys';
import { storedApart, type RequestBodies } from './request-bodies';
import { renderTransition } from './render-transition';

/** Writes a cancel may take: a first guess, one retry on what it saw, and a last one on a concurrent change. */
const CANCEL_MAX_WRITES = 3;

/**
 * The request lifecycle in DynamoDB: asks core what an event does to the request, then makes it
 * one conditional UpdateItem. A lost condition comes back with the item as it now is, which
 * either answers the caller or is decided again, once.
 */
export class DynamoRequestLifecycle implements RequestClaims, RedriveReopener {
  private readonly policy: LifecyclePolicy;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    retentionDays: number,
    private readonly bodies: RequestBodies,
  ) {
    this.policy = { retentionDays };
  }

  /**
   * Takes the request for one attempt: `accepted → processing`, or a `processing` request whose
   * lease ran out (its worker died or timed out). The first write guesses the attempt count (the
   * caller passes the message's receive count − 1), right on the common path and a read saved; a
   * wrong guess costs one more write, conditioned on the version the failed one returned.
   */
  async claim(id: string, terms: ClaimTerms, expectedAttempts: number, now = new Date()): Promise<ClaimOutcome> {
    const event: LifecycleEvent = { kind: 'claim', ...terms };
    // A guess at or past the cap would be refused without a write; guessing one below still lets the stored item answer.
    const guessed = Math.min(expectedAttempts, Math.max(terms.maxAttempts - 1, 0));
    const guess = decide({ id, status: 'accepted', attempts: guessed }, event, now, this.policy);
    if (guess.outcome === 'refused') return { outcome: 'lost', reason: guess.detail };
    const first = await this.write(id, guess);
    // Only a claim that won reads a payload stored apart: the attempt needs it, a loser does not.
    if (first.written) return { outcome: 'claimed', request: await this.bodies.withPayload(first.written) };
    if (!first.current) return { outcome: 'lost', reason: 'request not found' };
    const seen = requestFromItem(first.current);
    const retry = decide(seen, event, now, this.policy);
    // A lost claim's request may be announced again (a finished one), so its result comes along.
    if (retry.outcome === 'refused') return { outcome: 'lost', reason: retry.detail, current: await this.bodies.withResult(first.current) };
    const second = await this.write(id, retry);
    if (second.written) return { outcome: 'claimed', request: await this.bodies.withPayload(second.written) };
    if (!second.current) return { outcome: 'lost', reason: 'request not found' };
    const current = await this.bodies.withResult(second.current);
    return { outcome: 'lost', reason: describeLoss(current, now, this.policy, terms.maxAttempts), current };
  }

  /** `processing` (lease expired) or `accepted` → `failed` once every allowed attempt has started. */
  async exhaust(current: HeraldRequest, maxAttempts: number, redriveGeneration: number, now = new Date()): Promise<HeraldRequest | undefined> {
    return this.decideAndWrite(current, { kind: 'exhaust', maxAttempts, redriveGeneration }, now);
  }

  /**
   * Ends the attempt the caller holds: `succeeded` or `failed`, or back to `accepted` to wait for
   * a retry. Conditional on the claimed version, so a worker whose lease was taken over cannot
   * overwrite the newer attempt. Undefined when the attempt was superseded.
   */
  async finishAttempt(
    claimed: HeraldRequest,
    to: Exclude<RequestStatus, 'processing' | 'cancelled'>,
    outcome: AttemptOutcome,
    now = new Date(),
  ): Promise<HeraldRequest | undefined> {
    const decision = decide(claimed, finishEvent(to, outcome), now, this.policy);
    if (decision.outcome === 'refused') return undefined;
    const { result } = decision.set;
    // A large result goes to its own item first, named by the attempt only this worker holds; if
    // the finish then loses its condition, that item is an orphan its TTL removes.
    const apart = result !== undefined && storedApart(result);
    if (apart) await this.bodies.putResult(claimed.id, claimed.attempts, result);
    const { written } = await this.write(claimed.id, decision, apart ? { resultRef: claimed.attempts } : {});
    if (!written) return undefined;
    const finished = requestFromItem(written);
    return {
      ...finished,
      ...(claimed.payload !== undefined && finished.payload === undefined ? { payload: claimed.payload } : {}),
      ...(apart ? { result } : {}),
    };
  }

  /**
   * `accepted → cancelled`, conditional on the owner and the status. The first write guesses that
   * no attempt ran yet; a wrong guess is decided again on the request the failed write returned.
   */
  async cancel(merchantId: string, id: string, now = new Date()): Promise<CancelOutcome> {
    const event: LifecycleEvent = { kind: 'cancel', merchantId };
    let seen: HeraldRequest | undefined;
    for (let write = 0; write < CANCEL_MAX_WRITES; write++) {
      const decision = decide(seen ?? { id, status: 'accepted', attempts: 0 }, event, now, this.policy);
      if (decision.outcome === 'refused') {
        return decision.reason === 'not-owner' || !seen ? { outcome: 'not-found' } : { outcome: 'conflict', current: seen };
      }
      const result = await this.write(id, decision);
      if (result.written) return { outcome: 'cancelled', request: requestFromItem(result.written) };
      if (!result.current) return { outcome: 'not-found' };
      seen = requestFromItem(result.current);
    }
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.request(id), ConsistentRead: true }));
    return Item ? { outcome: 'conflict', current: await this.bodies.withResult(Item) } : { outcome: 'not-found' };
  }

  /**
   * `failed → accepted` for an operator redrive: a fresh round of attempts and a `redriven` row,
   * conditional on the version read, so concurrent copies of the message reopen it once.
   */
  async reopenForRedrive(failed: HeraldRequest, generation: number, now = new Date()): Promise<HeraldRequest | undefined> {
    return this.decideAndWrite(failed, { kind: 'reopen', generation }, now);
  }

  private async decideAndWrite(known: HeraldRequest, event: LifecycleEvent, now: Date): Promise<HeraldRequest | undefined> {
    const decision = decide(known, event, now, this.policy);
    if (decision.outcome === 'refused') return undefined;
    const { written } = await this.write(known.id, decision);
    return written ? requestFromItem(written) : undefined;
  }

  /** One conditional UpdateItem: the item as written, or as it stood when the condition failed. */
  private async write(id: string, transition: Transition, stored: { resultRef?: number } = {}): Promise<{ written?: Item; current?: Item }> {
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
