import type { PostResult } from './webhook-attempt';

/**
 * A per-endpoint circuit breaker. An endpoint that keeps timing out or answering 5xx would hold
 * the shared delivery workers for the whole attempt timeout on every message; after
 * `failureThreshold` such attempts in a row its deliveries are rescheduled without a POST until
 * the cool-down ends, when one probe is let through. A probe that fails opens the circuit again
 * for twice as long (up to `maxCoolDownSeconds`); one that gets an answer closes it.
 *
 * Pure: the state is a value and the clock is a number; `EndpointCircuits` keeps one state per
 * endpoint for the process that delivers.
 */

export interface CircuitSettings {
  /** Consecutive timeouts or 5xx that open the circuit. */
  readonly failureThreshold: number;
  /** How long the first opening lasts before a probe. */
  readonly coolDownSeconds: number;
  /** The longest an opening lasts after failed probes. */
  readonly maxCoolDownSeconds: number;
  /** How long a probe may take before another caller may probe instead (the attempt timeout). */
  readonly probeTimeoutSeconds: number;
}

export interface CircuitState {
  /** Timeouts and 5xx in a row. */
  readonly failures: number;
  /** While set and in the future, the circuit is open. */
  readonly openUntil?: number;
  /** The length of the current opening; doubled by each failed probe. */
  readonly coolDownMs?: number;
  /** A probe is under way until then; other deliveries wait for its verdict. */
  readonly probeUntil?: number;
}

export type CircuitDecision =
  | { readonly kind: 'post'; readonly probe: boolean }
  | { readonly kind: 'skip'; readonly retryAt: number; readonly failures: number };

export const CLOSED: CircuitState = { failures: 0 };

/** Whether an attempt's outcome holds a worker for nothing: no answer in time, or a server error. */
export function countsAsFailure(result: Pick<PostResult, 'status' | 'error'>): boolean {
  if (result.status !== undefined) return result.status >= 500;
  return result.error === 'timeout' || result.error === 'connect_timeout';
}

/** Whether a delivery may POST now, and the state after deciding (a probe is claimed by the decision). */
export function decide(state: CircuitState, now: number, settings: CircuitSettings): { decision: CircuitDecision; state: CircuitState } {
  if (state.failures < settings.failureThreshold || state.openUntil === undefined) return { decision: { kind: 'post', probe: false }, state };
  if (now < state.openUntil) return { decision: { kind: 'skip', retryAt: state.openUntil, failures: state.failures }, state };
  if (state.probeUntil !== undefined && now < state.probeUntil) {
    return { decision: { kind: 'skip', retryAt: state.probeUntil, failures: state.failures }, state };
  }
  return { decision: { kind: 'post', probe: true }, state: { ...state, probeUntil: now + settings.probeTimeoutSeconds * 1000 } };
}

/** The state after an attempt's outcome: an answer closes the circuit; a failure counts and may open it. */
export function afterAttempt(state: CircuitState, failed: boolean, now: number, settings: CircuitSettings): CircuitState {
  if (!failed) return CLOSED;
  const failures = state.failures + 1;
  if (failures < settings.failureThreshold) return { failures };
  // Still open from another caller's verdict: a straggler's failure neither shortens nor stretches it.
  if (state.openUntil !== undefined && now < state.openUntil) return { ...state, failures };
  const wasProbing = state.openUntil !== undefined;
  const baseMs = settings.coolDownSeconds * 1000;
  const coolDownMs = wasProbing ? Math.min((state.coolDownMs ?? baseMs) * 2, settings.maxCoolDownSeconds * 1000) : baseMs;
  return { failures, openUntil: now + coolDownMs, coolDownMs };
}

/**
 * The circuits of the endpoints one delivering process has posted to. Bounded: past
 * `maxEndpoints` the oldest-touched closed circuits are forgotten first (an open one forgotten
 * early only costs one more run of failures).
 */
export class EndpointCircuits {
  private readonly states = new Map<string, CircuitState>();

  constructor(
    readonly settings: CircuitSettings,
    private readonly maxEndpoints = 10_000,
  ) {}

  decide(endpointId: string, now: number): CircuitDecision {
    const current = this.states.get(endpointId);
    if (!current) return { kind: 'post', probe: false };
    const { decision, state } = decide(current, now, this.settings);
    if (state !== current) this.states.set(endpointId, state);
    return decision;
  }

  record(endpointId: string, failed: boolean, now: number): void {
    const current = this.states.get(endpointId) ?? CLOSED;
    const next = afterAttempt(current, failed, now, this.settings);
    this.states.delete(endpointId);
    if (next === CLOSED) return;
    this.states.set(endpointId, next);
    if (this.states.size > this.maxEndpoints) this.evict();
  }

  private evict(): void {
    for (const [id, state] of this.states) {
      if (this.states.size <= this.maxEndpoints) return;
      if (state.openUntil === undefined) this.states.delete(id);
    }
    for (const id of this.states.keys()) {
      if (this.states.size <= this.maxEndpoints) return;
      this.states.delete(id);
    }
  }
}
