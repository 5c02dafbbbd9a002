import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaults } from '../../settings/requests';
import type { AwaitRequestDependencies } from '../../core/requests/await-request-status';
import { parseWaitPreference, type WaitPreference } from '../../core/requests/wait-preference';
import { processorFor } from '../../processors/registry';
import { requestPorts, waitingCalls } from './dependencies';
import { headerOf, type HttpEvent } from './http';

/** What the client's `Prefer` header asks, capped at the longest wait served. */
export function waitPreferenceOf(event: HttpEvent): WaitPreference {
  return parseWaitPreference(headerOf(event, 'prefer'), defaults.waiting.maxSeconds);
}

/** The status use case's ports, with the merchant's bound of waiting calls and the real clock. */
export function awaitDependencies(): AwaitRequestDependencies {
  return {
    requests: requestPorts().queries,
    expectedSeconds: (type) => processorFor(type)?.expectedSeconds ?? defaults.retryAfterSeconds,
    waiting: { calls: waitingCalls(), perMerchant: defaults.waiting.callsPerMerchant },
    clock: { now: () => Date.now(), sleep: (ms) => sleep(ms) },
  };
}

/** A fresh id for one waiting call. */
export const newCallId = (): string => randomUUID();
