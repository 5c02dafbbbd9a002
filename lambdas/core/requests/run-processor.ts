import {
  CompensatedError,
  PermanentError,
  type Processor,
  type ProcessorLogger,
  type ProcessorServices,
} from './processor';
import type { HeraldRequest, HistoryEntry, RequestError } from './request';

/**
 * Runs a request's processor for one attempt within the time the worker has left, and turns
 * whatever it throws into a request error: permanent, compensated, or worth another try.
 */

/**
 * Results above this size are refused with a permanent error. A large result is stored in an item
 * of its own (docs/data-model.md), which DynamoDB caps at 400 KB.
 */
export const MAX_RESULT_BYTES = 256 * 1024;
/** Stop the work this long before the worker would be cut off, so the failure can still be recorded. */
const ABORT_MARGIN_MS = 3_000;

export type Attempt = ({ ok: true; result: unknown } | { ok: false; error: RequestError }) & { steps: HistoryEntry[] };

export interface AttemptContext {
  readonly services: ProcessorServices;
  /** Milliseconds before the worker itself would be cut off (Lambda's remaining time). */
  readonly remainingTimeMs: () => number;
  readonly logger: ProcessorLogger;
}

export async function runProcessor(
  deps: AttemptContext,
  processor: Processor<any, unknown> | undefined,
  request: HeraldRequest,
  now: () => Date,
): Promise<Attempt> {
  const steps: HistoryEntry[] = [];
  if (!processor) {
    return { ok: false, steps, error: { code: 'unknown_type', message: `No processor is registered for type ${request.type}`, retryable: false } };
  }
  if (request.payload === undefined) {
    // Its stored payload expired: only a request kept open far past its retention gets here.
    return { ok: false, steps, error: { code: 'payload_unavailable', message: 'The payload of this request is no longer stored', retryable: false } };
  }
  const payload = processor.schema.safeParse(request.payload);
  if (!payload.success) {
    return { ok: false, steps, error: { code: 'invalid_payload', message: `The payload no longer matches type ${request.type}`, retryable: false } };
  }
  const budgetMs = Math.max(Math.min(processor.timeoutMs, deps.remainingTimeMs() - ABORT_MARGIN_MS), 0);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(new Error(`timed out after ${budgetMs} ms`));
      reject(new TimeoutError(budgetMs));
    }, budgetMs);
  });
  const tags = { requestId: request.id, attempt: request.attempts };
  const logger: ProcessorLogger = {
    info: (message, extra) => deps.logger.info(message, { ...tags, ...extra }),
    warn: (message, extra) => deps.logger.warn(message, { ...tags, ...extra }),
    error: (message, extra) => deps.logger.error(message, { ...tags, ...extra }),
  };
  try {
    const result = await Promise.race([
      processor.run(payload.data, {
        requestId: request.id,
        merchantId: request.merchantId,
        attempt: request.attempts,
        signal: controller.signal,
        logger,
        recordStep: (step, detail) => {
          // Steps reported after a timeout belong to an attempt that is already over.
          if (controller.signal.aborted) return;
          steps.push({ from: 'processing', to: 'processing', at: now().toISOString(), attempt: request.attempts, step, ...(detail ? { reason: detail } : {}) });
        },
        services: deps.services,
      }),
      timedOut,
    ]);
    const tooLarge = resultTooLarge(result ?? null);
    if (tooLarge) return { ok: false, steps, error: tooLarge };
    return { ok: true, steps, result: result ?? null };
  } catch (thrown) {
    return { ok: false, steps, error: asRequestError(thrown) };
  } finally {
    clearTimeout(timer);
  }
}

function resultTooLarge(result: unknown): RequestError | undefined {
  const size = Buffer.byteLength(JSON.stringify(result), 'utf8');
  if (size > MAX_RESULT_BYTES) {
    return { code: 'result_too_large', message: `The result is ${size} bytes; the limit is ${MAX_RESULT_BYTES} bytes (256 KiB)`, retryable: false };
  }
  return undefined;
}

class TimeoutError extends Error {
  override readonly name = 'TimeoutError';

  constructor(ms: number) {
    super(`The processor did not finish within ${ms} ms`);
  }
}

/** Anything but a PermanentError counts as transient: unknown trouble deserves another try. */
function asRequestError(thrown: unknown): RequestError {
  const error = thrown instanceof Error ? thrown : new Error(String(thrown));
  if (error instanceof CompensatedError) return { code: error.code, message: error.message, retryable: false, compensated: true };
  if (error instanceof PermanentError) return { code: error.code, message: error.message, retryable: false };
  if (error instanceof TimeoutError) return { code: 'timeout', message: error.message, retryable: true };
  const { code } = error as { code?: unknown };
  return { code: typeof code === 'string' ? code : 'error', message: error.message, retryable: true };
}
