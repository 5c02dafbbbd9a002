import type { RequestQueue, StuckRequestStore } from './ports';
import type { HeraldRequest } from './request';
import { LEASE_MARGIN_MS } from './process-request';

export interface SweepSettings {
  /** An `accepted` request with no enqueue mark is re-enqueued once it is this old: its SendMessage failed. */
  readonly unenqueuedAfterSeconds: number;
  /**
   * An `accepted` request whose enqueue mark is this old is re-enqueued too: the mark is written
   * optimistically before SendMessage, and clearing it after a failed send can fail as well.
   */
  readonly staleEnqueueAfterSeconds: number;
  /** Requests handled per kind and run, so one run stays well inside the function's timeout. */
  readonly batchLimit: number;
}

export interface SweepDependencies {
  readonly store: StuckRequestStore;
  readonly queue: RequestQueue;
  readonly log: (message: string, extra?: Record<string, unknown>) => void;
  readonly now?: () => Date;
}

export type SweepReason = 'never-enqueued' | 'enqueue-stale' | 'lease-expired';

export interface SweepReport {
  readonly resent: readonly { readonly id: string; readonly reason: SweepReason }[];
  readonly failed: readonly { readonly id: string; readonly error: string }[];
}

/**
 * Puts requests that would otherwise wait forever back on the queue: `accepted` ones whose
 * enqueue failed (or may have), and `processing` ones whose worker vanished without finishing.
 * For a dead worker the queue usually brings the message back itself (its visibility timeout
 * ends with the lease, and the next claim takes the expired lease over); the sweeper is the
 * backstop for a message that is gone: the copies of one request other than the holder's are
 * acknowledged as lost claims while its lease holds, so when the holder's own message is then
 * lost too (a purged queue, a message past the queue's retention, a local queue emptied by a
 * restart) nothing else would ever bring the request back.
 * Both kinds come from one read of the open requests (`findStuck`), at most `batchLimit` of each.
 * A second message for a request is harmless: the worker's conditional claim runs it once. One
 * request failing to enqueue never stops the others; the next run tries it again.
 */
export async function sweepStuckRequests(deps: SweepDependencies, settings: SweepSettings): Promise<SweepReport> {
  const now = (deps.now ?? (() => new Date()))();
  const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000).toISOString();
  const { unqueued, leaseExpired: abandoned } = await deps.store.findStuck({
    changedBefore: ago(settings.unenqueuedAfterSeconds),
    enqueuedBefore: ago(settings.staleEnqueueAfterSeconds),
    leaseEndedBefore: now.toISOString(),
    claimedBefore: new Date(now.getTime() - LEASE_MARGIN_MS).toISOString(),
    limit: settings.batchLimit,
  });
  const resent: { id: string; reason: SweepReason }[] = [];
  const failed: { id: string; error: string }[] = [];
  const work = [
    ...unqueued.map((request) => ({ request, reason: (request.enqueuedAt ? 'enqueue-stale' : 'never-enqueued') as SweepReason })),
    ...abandoned.map((request) => ({ request, reason: 'lease-expired' as SweepReason })),
  ];
  for (const { request, reason } of work) {
    try {
      await resend(deps, request, reason, now.toISOString());
      resent.push({ id: request.id, reason });
      deps.log('Re-enqueued a stuck request', { requestId: request.id, reason, ...(request.traceId ? { traceId: request.traceId } : {}) });
    } catch (error) {
      failed.push({ id: request.id, error: (error as Error).message });
    }
  }
  if (failed.length) deps.log('Some stuck requests could not be re-enqueued; the next run retries them', { failed });
  return { resent, failed };
}

async function resend(deps: SweepDependencies, request: HeraldRequest, reason: SweepReason, at: string): Promise<void> {
  await deps.queue.enqueue({ requestId: request.id, merchantId: request.merchantId, type: request.type }, request.traceId);
  // A processing request needs no mark: its expired lease is what the claim looks at.
  if (reason !== 'lease-expired') await deps.store.markResent(request.id, at);
}
