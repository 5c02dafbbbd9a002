import { appendHistory, HISTORY_LIMIT, type HistoryEntry, type RequestError } from './request';
import {
  ATTEMPTS_EXHAUSTED,
  MAX_REASON_CHARS,
  type HistoryWrite,
  type KnownRequest,
  type LifecycleEvent,
  type LifecyclePolicy,
  type RemovableField,
  type RequestChanges,
} from './lifecycle-events';

/**
 * What an allowed event writes, apart from the status the transition table gives it: the fields
 * it sets and removes, the history rows within their bounds, and the expiry of a finished request.
 */

export function changesOf(known: KnownRequest, event: LifecycleEvent, at: string): { set: RequestChanges; remove: RemovableField[] } {
  switch (event.kind) {
    case 'claim':
      return {
        set: { attempts: known.attempts + 1, leaseUntil: new Date(Date.parse(at) + event.leaseMs).toISOString() },
        remove: ['nextAttemptAt'],
      };
    case 'succeed':
      return { set: event.result !== undefined ? { result: event.result } : {}, remove: ['leaseUntil', 'error'] };
    case 'fail':
      return {
        set: {
          error: boundedError(event.error),
          ...(event.result !== undefined ? { result: event.result } : {}),
          ...(event.redriveGeneration !== undefined ? { failedAtRedrive: event.redriveGeneration } : {}),
        },
        remove: ['leaseUntil'],
      };
    case 'exhaust':
      return {
        set: {
          // Retryable: the attempts failed for reasons outside the request, so an operator's redrive may reopen it.
          error: {
            code: ATTEMPTS_EXHAUSTED,
            message: `All ${event.maxAttempts} attempts started and none finished: the worker died or timed out each time`,
            retryable: true,
          },
          ...(event.redriveGeneration !== undefined ? { failedAtRedrive: event.redriveGeneration } : {}),
        },
        remove: ['leaseUntil', 'nextAttemptAt'],
      };
    case 'retry-wait':
      return {
        set: { ...(event.error ? { error: boundedError(event.error) } : {}), ...(event.nextAttemptAt ? { nextAttemptAt: event.nextAttemptAt } : {}) },
        remove: ['leaseUntil'],
      };
    case 'cancel':
      return { set: {}, remove: ['leaseUntil', 'nextAttemptAt'] };
    case 'reopen':
      // The redriven message is on the queue now: `enqueuedAt` keeps the sweeper from taking it for a lost enqueue.
      return {
        set: { attempts: 0, redriveGeneration: event.generation, enqueuedAt: at },
        remove: ['error', 'expiresAt', 'nextAttemptAt', 'leaseUntil'],
      };
    case 'release-lease':
      return { set: { leaseUntil: at }, remove: [] };
  }
}

export function reasonOf(event: LifecycleEvent): string | undefined {
  return event.kind === 'fail' || event.kind === 'retry-wait' ? event.reason : undefined;
}

export function bounded(text: string): string {
  return text.length <= MAX_REASON_CHARS ? text : `${text.slice(0, MAX_REASON_CHARS - 1)}…`;
}

export function boundedRow(row: HistoryEntry): HistoryEntry {
  return row.reason === undefined ? row : { ...row, reason: bounded(row.reason) };
}

function boundedError(error: RequestError): RequestError {
  return { ...error, code: error.code.slice(0, 100), message: bounded(error.message) };
}

export function historyWrite(known: KnownRequest, rows: readonly HistoryEntry[]): HistoryWrite {
  // Beyond the limit in one write (a processor recording many steps), even an append is trimmed.
  if (!known.history) return { mode: 'append', rows: rows.length <= HISTORY_LIMIT ? rows : rows.slice(-HISTORY_LIMIT) };
  return { mode: 'replace', rows: rows.reduce<HistoryEntry[]>((history, row) => appendHistory(history, row), [...known.history]) };
}

export function expiryOf(now: Date, policy: LifecyclePolicy): number {
  return Math.floor(now.getTime() / 1000) + policy.retentionDays * 86_400;
}
