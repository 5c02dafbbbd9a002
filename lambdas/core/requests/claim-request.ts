import { decideAndApply } from './apply-decision';
import type { ClaimOutcome, ClaimTerms, RequestTransitions } from './ports';
import { describeLoss } from './request-lifecycle';

/**
 * Takes the request for one attempt: `accepted → processing`, or a `processing` request whose
 * lease ran out (its worker died or timed out). The first write guesses the attempt count (the
 * caller passes the message's receive count − 1), right on the common path and a read saved; a
 * wrong guess costs one more write, decided on the request the failed one returned. Only a claim
 * that won reads a payload stored apart; a lost one brings a finished request's result, since
 * its end may be announced again.
 */
export async function claimRequest(store: RequestTransitions, id: string, terms: ClaimTerms, expectedAttempts: number, now = new Date()): Promise<ClaimOutcome> {
  // A guess at or past the cap would be refused without a write; guessing one below still lets the stored item answer.
  const guessed = Math.min(expectedAttempts, Math.max(terms.maxAttempts - 1, 0));
  const decided = await decideAndApply(store, { id, status: 'accepted', attempts: guessed }, { kind: 'claim', ...terms }, now, {
    maxWrites: 2,
    reads: { payload: true, resultOfFinished: true },
  });
  switch (decided.outcome) {
    case 'applied':
      return { outcome: 'claimed', request: decided.request };
    case 'missing':
      return { outcome: 'lost', reason: 'request not found' };
    case 'refused':
      return { outcome: 'lost', reason: decided.refusal.detail, ...(decided.current ? { current: decided.current } : {}) };
    case 'lost':
      return { outcome: 'lost', reason: describeLoss(decided.current, now, store.policy, terms.maxAttempts), current: decided.current };
  }
}
