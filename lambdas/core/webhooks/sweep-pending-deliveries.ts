import { deliveryMessageOf } from './fan-out-webhooks';
import type { DeliveryQueue, DeliveryStore } from './ports';
import { MAX_DELIVERY_ROUNDS, type Delivery } from './delivery';
import { decideDelivery } from './delivery-lifecycle';

export interface SweepDeliveriesDependencies {
  readonly deliveries: DeliveryStore;
  readonly queue: DeliveryQueue;
  readonly log: (message: string, extra?: Record<string, unknown>) => void;
  readonly now?: () => Date;
}

/**
 * Puts deliveries back on the queue whose message was lost: still pending, and overdue by more
 * than `graceSeconds` (a message due then would have been received by now). The table is the
 * truth; this is how deliveries survive a failed enqueue on AWS, and a restart of the local
 * runtime, whose queues live in memory. Each is resent as a new round, so a late copy of the
 * old message cannot record over it.
 */
export async function sweepPendingDeliveries(
  deps: SweepDeliveriesDependencies,
  options: { readonly graceSeconds: number; readonly limit: number },
): Promise<{ resent: string[] }> {
  const now = (deps.now ?? (() => new Date()))();
  const before = new Date(now.getTime() - options.graceSeconds * 1000).toISOString();
  const overdue = await deps.deliveries.findOverdue(before, options.limit);
  const resent = [];
  const at = now.toISOString();
  for (const delivery of overdue) {
    const decision = decideDelivery(delivery, { kind: 'sweep', at });
    if (decision.outcome === 'refused') {
      // Out of rounds: it ends dead, leaving the sweeper's index, instead of coming back every run.
      if (decision.code === 'rounds-exhausted') await die(deps, delivery, at);
      continue;
    }
    const next = await deps.deliveries.apply(decision.transition);
    if (next) resent.push(next);
  }
  if (resent.length > 0) {
    await deps.queue.send(resent.map((delivery) => deliveryMessageOf(delivery)));
    deps.log('Overdue deliveries re-enqueued', { deliveryIds: resent.map((d) => d.id) });
  }
  return { resent: resent.map((d) => d.id) };
}

async function die(deps: SweepDeliveriesDependencies, delivery: Delivery, at: string): Promise<void> {
  const reason = `rounds-exhausted: ${MAX_DELIVERY_ROUNDS} rounds without success`;
  const decision = decideDelivery(delivery, { kind: 'die', round: delivery.round, at, reason });
  if (decision.outcome === 'transition') await deps.deliveries.apply(decision.transition);
}
