import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Item } from './keys';

/**
 * The DynamoDB plumbing every store shares: a failed condition becomes a value the store turns
 * into a domain outcome, and anything else is rethrown untouched.
 */

/** What a failed condition reports: the item as it was (when the write asked for it), or none when it did not exist. */
export interface ConditionFailure {
  readonly current?: Item;
}

/**
 * Runs one conditional write; a failed condition yields `onFailure`'s answer instead of an
 * exception. The item the failure carries (with `ReturnValuesOnConditionCheckFailure: 'ALL_OLD'`)
 * arrives unmarshalled.
 */
export async function unlessConditionFails<T, F>(write: () => Promise<T>, onFailure: (failure: ConditionFailure) => F): Promise<T | F> {
  try {
    return await write();
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    return onFailure(error.Item ? { current: unmarshallRaw(error.Item) } : {});
  }
}

/**
 * Runs one transaction; when DynamoDB cancels it, yields `onCancelled`'s answer given each
 * item's reason (in the order of `TransactItems`). Anything else is rethrown.
 */
export async function unlessTransactionCancelled<T, F>(
  write: () => Promise<T>,
  onCancelled: (reasons: readonly TransactionReason[], error: TransactionCanceledException) => F,
): Promise<T | F> {
  try {
    return await write();
  } catch (error) {
    if (!(error instanceof TransactionCanceledException)) throw error;
    const reasons = (error.CancellationReasons ?? []).map((reason) => ({
      conditionFailed: reason.Code === 'ConditionalCheckFailed',
      ...(reason.Item ? { current: unmarshallRaw(reason.Item) } : {}),
    }));
    return onCancelled(reasons, error);
  }
}

export interface TransactionReason {
  readonly conditionFailed: boolean;
  readonly current?: Item;
}

/** Epoch seconds now: the unit of the table's TTL attribute. */
export function epochSecondsNow(): number {
  return Math.floor(Date.now() / 1000);
}

// Condition failures and cancelled transactions hand back raw AttributeValues, not document-client objects.
function unmarshallRaw(item: Record<string, unknown>): Item {
  return unmarshall(item as Parameters<typeof unmarshall>[0]);
}
