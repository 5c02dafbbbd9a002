import { isTerminal } from '../../core/requests/request';
import type { Transition } from '../../core/requests/lifecycle-events';
import { inlineBody } from './inline-bodies';
import { indexKeys, keys, RESULT_IN_OBJECT, RESULT_REF, sweepTimeOf, type Item, type Key } from './keys';

/** One UpdateItem's parts, ready to send with a table name. */
export interface RenderedUpdate {
  readonly Key: Key;
  readonly ConditionExpression: string;
  readonly UpdateExpression: string;
  readonly ExpressionAttributeNames: Record<string, string>;
  readonly ExpressionAttributeValues: Item;
}

/**
 * Renders a lifecycle transition into one conditional UpdateItem: the precondition becomes the
 * condition, the changes and the history rows become the update, and the request's place in the
 * sweepers' status index moves only when it goes back to `accepted` or leaves when it finishes. Nothing here decides whether the transition is
 * allowed: core did that. A result the caller stored apart (`resultRef`: the attempt whose result
 * item or object holds it; `resultInObject` when an object) is written as that reference instead of inline.
 */
export function renderTransition(id: string, transition: Transition, stored: { resultRef?: number; resultInObject?: boolean } = {}): RenderedUpdate {
  const names: Record<string, string> = {};
  const values: Item = {};
  const name = (attribute: string) => {
    names[`#${attribute}`] = attribute;
    return `#${attribute}`;
  };

  const conditions = ['attribute_exists(pk)'];
  const expect = (attribute: string, value: unknown, operator = '=') => {
    values[`:if_${attribute}`] = value;
    conditions.push(`${name(attribute)} ${operator} :if_${attribute}`);
  };
  const { precondition } = transition;
  expect('status', precondition.status);
  expect('attempts', precondition.attempts);
  if (precondition.version !== undefined) expect('version', precondition.version);
  if (precondition.merchantId !== undefined) expect('merchantId', precondition.merchantId);
  if (precondition.attemptsBelow !== undefined) {
    values[':if_attemptsBelow'] = precondition.attemptsBelow;
    conditions.push(`${name('attempts')} < :if_attemptsBelow`);
  }
  if (precondition.historyAtMost !== undefined) {
    values[':if_historyAtMost'] = precondition.historyAtMost;
    conditions.push(`size(${name('history')}) <= :if_historyAtMost`);
  }
  if (precondition.neverRedriven) conditions.push(`attribute_not_exists(${name('redriveGeneration')})`);

  const sets: string[] = [`${name('version')} = ${name('version')} + :one`];
  values[':one'] = 1;
  const assign = (attribute: string, value: unknown) => {
    values[`:${attribute}`] = value;
    sets.push(`${name(attribute)} = :${attribute}`);
  };
  for (const [attribute, value] of Object.entries(transition.set)) {
    if (value === undefined || (attribute === 'result' && stored.resultRef !== undefined)) continue;
    assign(attribute, attribute === 'result' ? inlineBody(value).stored : value);
  }
  if (stored.resultRef !== undefined) assign(RESULT_REF, stored.resultRef);
  if (stored.resultInObject) assign(RESULT_IN_OBJECT, true);
  const { history } = transition;
  // An append of no rows (a silent move) leaves the history untouched.
  if (history.mode === 'replace' || history.rows.length > 0) {
    values[':history'] = history.rows;
    sets.push(history.mode === 'append' ? `${name('history')} = list_append(${name('history')}, :history)` : `${name('history')} = :history`);
  }

  const removes: string[] = transition.remove.map(name);
  const { set } = transition;
  if (isTerminal(set.status)) {
    // Finished requests leave the sweepers' sparse index.
    removes.push(...indexKeys.statusAttributes.map(name));
  } else if (set.status === 'accepted') {
    // Back to waiting (a retry, a redrive): the entry moves to when the sweeper should next look.
    const sweepAt = sweepTimeOf({ status: set.status, updatedAt: set.updatedAt ?? '', ...pick(set) });
    for (const [attribute, value] of Object.entries(indexKeys.requestStatus(id, set.status, sweepAt))) assign(attribute, value);
  }
  // A move to `processing` (the claim, a lease release) leaves both index key attributes as they
  // are: a keys-only index costs no write when neither changes, and moving the entry cost two
  // (a delete and a put) on every claim. The sweeper reads the lease off the item instead.

  return {
    Key: keys.request(id),
    ConditionExpression: conditions.join(' AND '),
    UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

function pick(set: Transition['set']): { leaseUntil?: string; nextAttemptAt?: string } {
  return {
    ...(set.leaseUntil !== undefined ? { leaseUntil: set.leaseUntil } : {}),
    ...(set.nextAttemptAt !== undefined ? { nextAttemptAt: set.nextAttemptAt } : {}),
  };
}
