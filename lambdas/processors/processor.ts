import type { z } from 'zod';

/** What a processor may use while it runs. */
export interface ProcessorContext {
  readonly requestId: string;
  readonly attempt: number;
  /** Fires before the worker would be cut off, so long work can stop cleanly and be retried. */
  readonly signal: AbortSignal;
  readonly log: (message: string, extra?: Record<string, unknown>) => void;
}

/**
 * The unit of work Herald runs for a request type. `schema` validates the payload at submit
 * time (a bad payload is a 400 then, not a failure later); `run` returns the result stored on
 * the request. Throw `RetryableError` for transient trouble and `PermanentError` for refusals;
 * anything else thrown counts as transient.
 */
export interface Processor<P = Record<string, unknown>, R = unknown> {
  readonly type: string;
  readonly timeoutMs: number;
  /** Seconds a client should wait before polling again, from the work's usual duration. */
  readonly expectedSeconds?: number;
  readonly schema: z.ZodType<P>;
  run(payload: P, context: ProcessorContext): Promise<R>;
}

/** Transient trouble: try again later. */
export class RetryableError extends Error {
  constructor(message: string, readonly code = 'retryable', options?: ErrorOptions) {
    super(message, options);
    this.name = 'RetryableError';
  }
}

/** Bad input or a business refusal: trying again would fail the same way. */
export class PermanentError extends Error {
  constructor(message: string, readonly code = 'permanent', options?: ErrorOptions) {
    super(message, options);
    this.name = 'PermanentError';
  }
}
