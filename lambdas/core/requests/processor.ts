import type * as z from '../shared/schema';
import type { WalletLedger } from './wallet';

/** Structured logging for a processor; every line carries the request id and attempt. */
export interface ProcessorLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/**
 * Stores and services a processor may use, handed in by the worker so that processors never
 * read the environment or build AWS clients themselves (and tests can hand in their own).
 */
export interface ProcessorServices {
  readonly wallets: WalletLedger;
}

/** What a processor may use while it runs. */
export interface ProcessorContext {
  readonly requestId: string;
  /** The merchant that submitted the request: whatever the processor touches must be scoped to it. */
  readonly merchantId: string;
  /** 1 for the first attempt of a round; a redrive starts a new round at 1. */
  readonly attempt: number;
  /** Fires before the worker would be cut off, so long work can stop cleanly and be retried. */
  readonly signal: AbortSignal;
  readonly logger: ProcessorLogger;
  /**
   * Records a step (e.g. a saga's debit or its compensation) as a row of the request's history.
   * Rows are written with the attempt's outcome, in the same conditional write.
   */
  recordStep(step: string, detail?: string): void;
  readonly services: ProcessorServices;
}

/**
 * The unit of work Herald runs for a request type. `schema` validates the payload at submit
 * time (a bad payload is a 400 then, not a failure later); `run` returns the result stored on
 * the request (at most 256 KiB of JSON). Throw `RetryableError` for transient trouble and
 * `PermanentError` for refusals; anything else thrown counts as transient. A request may run
 * more than once (a retry, or a worker that died after the work), so `run` must be idempotent.
 *
 * @example
 * export const echo: Processor<{ text: string }, { text: string }> = {
 *   type: 'demo.echo', timeoutMs: 1_000, schema: z.object({ text: z.string() }),
 *   async run({ text }) { return { text }; },
 * };
 */
export interface Processor<P = Record<string, unknown>, R = unknown> {
  readonly type: string;
  /**
   * What the customer-facing status page calls this work ("Order processing"): the type is an
   * internal name a customer should not have to read. The type is shown when absent.
   */
  readonly displayName?: string;
  /** The longest one attempt may take; the lease and the abort signal are sized from it. */
  readonly timeoutMs: number;
  /** Seconds a client should wait before polling again, from the work's usual duration. */
  readonly expectedSeconds?: number;
  readonly schema: z.ZodMiniType<P>;
  run(payload: P, context: ProcessorContext): Promise<R>;
}

/** Transient trouble: try again later. */
export class RetryableError extends Error {
  override readonly name = 'RetryableError';

  constructor(message: string, readonly code = 'retryable', options?: ErrorOptions) {
    super(message, options);
  }
}

/** Bad input or a business refusal: trying again would fail the same way. */
export class PermanentError extends Error {
  override readonly name: string = 'PermanentError';

  constructor(message: string, readonly code = 'permanent', options?: ErrorOptions) {
    super(message, options);
  }
}

/** A saga failed for good after undoing the steps it had completed: nothing it did remains. */
export class CompensatedError extends PermanentError {
  override readonly name = 'CompensatedError';

  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, code, options);
  }
}
