import type { Delivery, NewDelivery } from '../../../../lambdas/core/webhooks/delivery';
import { decideDelivery, type DeliveryEvent, type DeliveryTransition } from '../../../../lambdas/core/webhooks/delivery-lifecycle';

type OutcomeEvent = Extract<DeliveryEvent, { readonly round: number }>;
type Outcome = OutcomeEvent extends infer E ? (E extends OutcomeEvent ? Omit<E, 'round' | 'at' | 'first'> : never) : never;

/** The transition the lifecycle decides for `event` over `delivery`; a refusal fails the test's arrange step. */
export function transitionOf(delivery: Delivery | undefined, event: DeliveryEvent): DeliveryTransition {
  const decision = decideDelivery(delivery, event);
  if (decision.outcome !== 'transition') throw new Error(`expected a transition, got ${decision.code}: ${decision.detail}`);
  return decision.transition;
}

/** The write that creates a delivery with its first outcome, in round 1. */
export function firstOutcome(fresh: NewDelivery, outcome: Outcome, at: string): DeliveryTransition {
  return transitionOf(undefined, { ...outcome, round: 1, at, first: fresh } as OutcomeEvent);
}

/** The write of an outcome over the record as it was read. */
export function outcomeOver(read: Delivery, outcome: Outcome, at: string): DeliveryTransition {
  return transitionOf(read, { ...outcome, round: read.round, at } as OutcomeEvent);
}
