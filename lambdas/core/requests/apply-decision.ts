import type { ApplyReads, RequestTransitions } from './ports';
import type { HeraldRequest } from './request';
import type { KnownRequest, LifecycleEvent, Refusal } from './lifecycle-events';
import { decide } from './request-lifecycle';

/** How deciding and writing one event ended. */
export type Decided =
  | { readonly outcome: 'applied'; readonly request: HeraldRequest }
  /** `current` is the stored request the refusal was decided on; absent when it was decided on the caller's guess. */
  | { readonly outcome: 'refused'; readonly refusal: Refusal; readonly current?: HeraldRequest }
  /** Every write allowed lost its condition; `current` is the request as the last one found it. */
  | { readonly outcome: 'lost'; readonly current: HeraldRequest }
  | { readonly outcome: 'missing' };

/**
 * Decides `event` on what the caller knows, writes the transition, and on a lost condition
 * decides again on the request the store found, up to `maxWrites` writes in all. A caller that
 * read the request whole writes once (a loss means someone else moved it); a caller starting
 * from a guess (a claim, a cancel) spends a second write only when the guess was wrong.
 */
export async function decideAndApply(
  store: RequestTransitions,
  known: KnownRequest,
  event: LifecycleEvent,
  now: Date,
  options: { readonly maxWrites?: number; readonly reads?: ApplyReads } = {},
): Promise<Decided> {
  let seen: HeraldRequest | undefined;
  for (let write = 0; write < (options.maxWrites ?? 1); write++) {
    const decision = decide(seen ?? known, event, now, store.policy);
    if (decision.outcome === 'refused') return { outcome: 'refused', refusal: decision, ...(seen ? { current: seen } : {}) };
    const written = await store.apply(known.id, decision, options.reads);
    if (written.outcome === 'applied') return written;
    if (!written.current) return { outcome: 'missing' };
    seen = written.current;
  }
  return { outcome: 'lost', current: seen! };
}

/** One write on a request read whole: the request as written, or undefined when refused or changed first. */
export async function applyOnce(store: RequestTransitions, known: HeraldRequest, event: LifecycleEvent, now: Date): Promise<HeraldRequest | undefined> {
  const decided = await decideAndApply(store, known, event, now);
  return decided.outcome === 'applied' ? decided.request : undefined;
}
