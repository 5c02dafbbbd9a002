import type { DynamoRequestPorts } from '../../lambdas/adapters/dynamo-request-ports';
import { applyOnce } from '../../lambdas/core/requests/apply-decision';
import type { HeraldRequest } from '../../lambdas/core/requests/request';
import type { RequestQueue } from '../../lambdas/core/requests/ports';
import { sweepPendingDeliveries } from '../../lambdas/core/webhooks/sweep-pending-deliveries';
import type { DeliveryQueue, DeliveryStore } from '../../lambdas/core/webhooks/ports';

/**
 * The most requests and deliveries one start re-enqueues; anything beyond waits for the sweepers'
 * ordinary thresholds. Far above what a local data directory holds in flight.
 */
export const RECOVERY_LIMIT = 10_000;
/** Passes over the pending-deliveries index: each reads one page of it (DynamoDB cuts a page at 1 MB). */
const DELIVERY_PASSES = 50;
/**
 * A request that finished this long before the table's last change may not have told its
 * endpoints yet, so it is announced again:
 * - the worker announces after the terminal write, and a failed announcement waits for its
 *   message to come back (the requests queue hides it for 6 minutes);
 * - a delivery has no record until its first attempt ends, so one whose message was still in the
 *   lost queue is known only from its request: 15 minutes covers every first attempt that waited
 *   less than that behind others (a poller takes a message within seconds, an attempt lasts at
 *   most 10 s). Announcing again sends round 1's messages again; the deliver worker posts only
 *   those that find no record, the others finding their delivery finished or taken over by the
 *   new round this start gives every pending one.
 */
export const REANNOUNCE_WINDOW_MS = 15 * 60_000;
// Every time the delivery sweeper compares with is before this, so "overdue by a while" becomes "pending at all".
const FAR_FUTURE_SECONDS = 100 * 365 * 86_400;

export interface RecoveryDependencies {
  readonly requests: Pick<DynamoRequestPorts, 'lifecycle' | 'queries' | 'sweeper'>;
  readonly requestQueue: RequestQueue;
  readonly deliveries: DeliveryStore;
  readonly deliveryQueue: DeliveryQueue;
  readonly log: (message: string, extra?: Record<string, unknown>) => void;
  readonly now?: () => Date;
}

export interface RecoveryReport {
  readonly requests: number;
  /** Finished requests whose webhooks and notifications were announced again (idempotently). */
  readonly reannounced: number;
  readonly leasesReleased: number;
  readonly deliveries: number;
  readonly failed: number;
}

/**
 * Puts every piece of unfinished work back on the queues when the local runtime starts on a kept
 * data directory. Its queues lived in the memory of the process that stopped, so they are empty
 * now by definition: waiting for the sweepers' thresholds (which on AWS guard against queues
 * that merely run late) would strand the work for a quarter of an hour.
 *
 * - `accepted` requests are re-enqueued whatever their enqueue mark says.
 * - `processing` requests had their worker in that process: their leases are ended first (the
 *   lifecycle's `release-lease`; this runtime started the table's only server, so no other worker
 *   can hold one), then they are re-enqueued and the next claim takes them over as an abandoned
 *   attempt. Both are read from the status index (`findUnfinished`), at most `RECOVERY_LIMIT` each.
 * - requests that finished shortly before the table's last change (`REANNOUNCE_WINDOW_MS`) are
 *   re-enqueued too: the worker announces an end (webhook fan-out, notifications) after writing
 *   it, so the process may have died in between, and a delivery whose first attempt had not ended
 *   lived only in the lost queue. The worker's claim finds them finished and only repeats the
 *   announcement: notifications skip what was sent, and the deliver worker posts nothing for a
 *   delivery that already has a record in round 1.
 * - pending deliveries (recorded ones) start a new round at once, due now, as the delivery
 *   sweeper would.
 *
 * A second message for the same work is harmless: claims and delivery rounds are conditional.
 */
export async function recoverAtStart(deps: RecoveryDependencies): Promise<RecoveryReport> {
  const now = (deps.now ?? (() => new Date()))();
  const held = await deps.requests.sweeper.findUnfinished('processing', RECOVERY_LIMIT);
  const leasesReleased = await releaseLeases(deps, held, now);
  const waiting = await deps.requests.sweeper.findUnfinished('accepted', RECOVERY_LIMIT);
  let resent = 0;
  let failed = 0;
  for (const request of [...waiting, ...held].slice(0, RECOVERY_LIMIT)) {
    try {
      await enqueue(deps, request);
      // A processing request needs no mark: its released lease is what the claim looks at.
      if (request.status === 'accepted') await deps.requests.sweeper.markResent(request.id, now.toISOString());
      resent++;
    } catch {
      failed++;
    }
  }
  const reannounced = await reannounceRecentlyFinished(deps);
  // One millisecond later, so that deliveries due at `now` count as overdue.
  const deliveries = await resendPendingDeliveries(deps, new Date(now.getTime() + 1));
  const report = { requests: resent, reannounced, leasesReleased, deliveries, failed };
  deps.log(
    `Recovered at start: ${report.requests + reannounced} requests and ${report.deliveries} deliveries re-enqueued` +
      ` (${reannounced} of the requests had finished: only their end is announced again)`,
    report,
  );
  return report;
}

/**
 * Ends every lease now: this runtime started the table's only server, so no worker holds one.
 * Each release is the lifecycle's `release-lease`, conditional on the version read and bumping it;
 * one that lost its condition (the request moved meanwhile) is left as it is.
 */
async function releaseLeases(deps: RecoveryDependencies, held: readonly HeraldRequest[], now: Date): Promise<number> {
  let released = 0;
  for (const request of held) if (await applyOnce(deps.requests.lifecycle, request, { kind: 'release-lease' }, now)) released++;
  return released;
}

async function reannounceRecentlyFinished(deps: RecoveryDependencies): Promise<number> {
  const recent = await deps.requests.queries.recentlyFinished(REANNOUNCE_WINDOW_MS, RECOVERY_LIMIT);
  for (const request of recent) await enqueue(deps, request);
  return recent.length;
}

function enqueue(deps: RecoveryDependencies, request: Pick<HeraldRequest, 'id' | 'merchantId' | 'type' | 'traceId'>): Promise<void> {
  return deps.requestQueue.enqueue({ requestId: request.id, merchantId: request.merchantId, type: request.type }, request.traceId);
}

async function resendPendingDeliveries(deps: RecoveryDependencies, now: Date): Promise<number> {
  // Each resent delivery becomes due `now` and may be read again by the next pass; a set of the
  // ones already resent ends the passes once a page brings nothing new.
  const resent = new Set<string>();
  for (let pass = 0; pass < DELIVERY_PASSES && resent.size < RECOVERY_LIMIT; pass++) {
    const before = resent.size;
    const report = await sweepPendingDeliveries(
      { deliveries: skipping(deps.deliveries, resent), queue: deps.deliveryQueue, log: () => undefined, now: () => now },
      { graceSeconds: -FAR_FUTURE_SECONDS, limit: RECOVERY_LIMIT },
    );
    report.resent.forEach((id) => resent.add(id));
    if (resent.size === before) break;
  }
  return resent.size;
}

/** The delivery store, minus deliveries this start already resent. */
function skipping(store: DeliveryStore, done: ReadonlySet<string>): DeliveryStore {
  return Object.assign(Object.create(store) as DeliveryStore, {
    findOverdue: async (before: string, limit: number) => (await store.findOverdue(before, limit)).filter((d) => !done.has(d.id)),
  });
}
