import type { HeraldRequest, HistoryEntry, RequestError, RequestStatus } from './request';

/**
 * The vocabulary of the request lifecycle: the events a use case builds, and the decided
 * transition (or refusal) `decide` (request-lifecycle.ts) answers with. A store renders a
 * `Transition` into one conditional write and decides nothing itself.
 */

export type LifecycleEventKind = 'claim' | 'succeed' | 'fail' | 'retry-wait' | 'cancel' | 'reopen' | 'exhaust' | 'release-lease';

export type LifecycleEvent =
  /**
   * A worker takes the request for one attempt under a lease (also takes over an expired lease),
   * while fewer than `maxAttempts` attempts have started: the cap is counted on the item, so a
   * fresh message (the sweeper's, a redelivery's) can never buy a request more attempts.
   */
  | { readonly kind: 'claim'; readonly leaseMs: number; readonly maxAttempts: number }
  | { readonly kind: 'succeed'; readonly result?: unknown; readonly steps?: readonly HistoryEntry[] }
  | {
      readonly kind: 'fail';
      readonly error: RequestError;
      readonly reason: string;
      readonly result?: unknown;
      readonly steps?: readonly HistoryEntry[];
      /** The queue's redrive generation when the request failed: only a later redrive reopens it. */
      readonly redriveGeneration?: number;
    }
  /**
   * Every allowed attempt started and none finished (the workers died or timed out, leaving their
   * leases to expire): the request ends `failed` with the reason `attempts-exhausted`.
   */
  | { readonly kind: 'exhaust'; readonly maxAttempts: number; readonly redriveGeneration?: number }
  /** A transient failure: back to `accepted` until `nextAttemptAt`. */
  | {
      readonly kind: 'retry-wait';
      readonly error?: RequestError;
      readonly reason?: string;
      readonly nextAttemptAt?: string;
      readonly steps?: readonly HistoryEntry[];
    }
  | { readonly kind: 'cancel'; readonly merchantId: string }
  /** An operator redrive gives a request whose attempts ran out a new round. */
  | { readonly kind: 'reopen'; readonly generation: number }
  /**
   * The worker holding the lease is known to be gone (the local runtime restarted, and with it
   * every worker): the lease ends now, so the next claim takes the attempt over at once. Status,
   * attempts and history stay: that claim records the takeover like any abandoned attempt.
   */
  | { readonly kind: 'release-lease' };

export interface TransitionRule {
  readonly event: LifecycleEventKind;
  readonly from: RequestStatus;
  readonly to: RequestStatus;
  /** The history row's reason when the rule fixes it; otherwise the event supplies one (or none). */
  readonly reason?: string;
  /** The move leaves no history row: it changes how the request is held, not where it stands. */
  readonly silent?: boolean;
}

export const LEASE_EXPIRED_REASON = 'lease expired; the previous attempt was abandoned';
export const CANCELLED_REASON = 'cancelled by the merchant';
export const REDRIVEN_REASON = 'redriven';
/** The reason, and the error code, of a request whose attempts ran out. */
export const ATTEMPTS_EXHAUSTED = 'attempts-exhausted';
/**
 * Longest history reason and error message kept, in characters: both come from processors and
 * receivers, and an unbounded string in every row would let one request outgrow its item.
 */
export const MAX_REASON_CHARS = 500;

/**
 * What a writer knows of the stored request. A claim or a cancel may start from a guess (status
 * and attempts only) to save a read; the precondition makes a wrong guess fail harmlessly, and the
 * use case decides again on the request the failed condition returned.
 */
export type KnownRequest = Pick<HeraldRequest, 'id' | 'status' | 'attempts'> &
  Partial<Pick<HeraldRequest, 'version' | 'merchantId' | 'leaseUntil' | 'history' | 'redriveGeneration'>>;

/** The condition a transition's write must hold: the stored request is still the one the decision saw. */
export interface Precondition {
  readonly status: RequestStatus;
  readonly attempts: number;
  /** Present whenever the writer read the item; absent on a first guess. */
  readonly version?: number;
  readonly merchantId?: string;
  /** When set, the write holds only while `attempts` is below it. */
  readonly attemptsBelow?: number;
  /**
   * When set, the write holds only while the stored history has at most this many rows: an
   * append on a guess never saw the list, so this is what keeps it within `HISTORY_LIMIT`. A
   * longer history fails the condition, and the retry, having read it, rewrites it trimmed.
   */
  readonly historyAtMost?: number;
  /** When set, the write holds only if no redrive ever reopened the request (its earlier rounds ran attempts). */
  readonly neverRedriven?: boolean;
}

/** Request fields a transition writes; `version` is bumped by one on every write besides these. */
export type RequestChanges = Partial<
  Pick<
    HeraldRequest,
    'status' | 'attempts' | 'leaseUntil' | 'nextAttemptAt' | 'enqueuedAt' | 'redriveGeneration' | 'failedAtRedrive' | 'result' | 'error' | 'updatedAt'
  >
> & {
  /** Epoch seconds after which the request may be deleted: set once it is terminal. */
  readonly expiresAt?: number;
};

export type RemovableField = 'leaseUntil' | 'nextAttemptAt' | 'error' | 'expiresAt';

/**
 * How the history rows reach the item. A writer that read the whole history rewrites it trimmed
 * (`appendHistory`); a writer acting on a guess can only append, since it never saw the list.
 * An append of no rows leaves the history as it is.
 */
export type HistoryWrite = { readonly mode: 'append'; readonly rows: readonly HistoryEntry[] } | { readonly mode: 'replace'; readonly rows: readonly HistoryEntry[] };

export interface Transition {
  readonly outcome: 'transition';
  readonly rule: TransitionRule;
  readonly precondition: Precondition;
  /** `updatedAt` is absent only on a silent move, which leaves the request's last change as it was. */
  readonly set: RequestChanges & { readonly status: RequestStatus };
  readonly remove: readonly RemovableField[];
  readonly history: HistoryWrite;
}

export type RefusalReason = 'terminal' | 'wrong-status' | 'lease-held' | 'not-owner' | 'attempts-exhausted' | 'attempts-left' | 'attempt-started';

export interface Refusal {
  readonly outcome: 'refused';
  readonly reason: RefusalReason;
  readonly event: LifecycleEventKind;
  readonly status: RequestStatus;
  /** Why, in words, for logs and the worker's `skipped` reason. */
  readonly detail: string;
}

export interface LifecyclePolicy {
  /** How long a finished request is kept before its item expires. */
  readonly retentionDays: number;
}
