import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  HeraldError,
  RequestNotCancellableError,
  ServiceUnavailableError,
  StreamLimitReachedError,
  ValidationError,
} from '../../core/shared/errors';
import { QuotaExceededError } from '../../core/merchants/merchant-quotas';
import { logger } from './observability';

export type HttpResult = APIGatewayProxyStructuredResultV2 & { headers: Record<string, string> };

export const PROBLEM_TYPE_BASE = 'https://herald.dev/problems/';

/** How a client sees one error code: its status, its title, and what the error's data adds. */
interface ProblemShape {
  readonly status: number;
  readonly title: string;
  readonly headers?: (error: HeraldError) => Record<string, string>;
  /** Extra members of the problem document (RFC 9457 extensions), e.g. a conflict's current status. */
  readonly extensions?: (error: HeraldError) => Record<string, unknown>;
}

const retryAfter = (error: HeraldError): Record<string, string> =>
  error instanceof ServiceUnavailableError
    ? { 'Retry-After': String(error.retryAfterSeconds) }
    : {};

/**
 * Every code a client can meet: the one place that decides what a client sees of an error. A
 * `HeraldError` whose code is missing here is answered as a 500 (and logged), so a new error
 * class cannot reach a client with a status nobody chose.
 */
export const PROBLEMS: Readonly<Record<string, ProblemShape>> = {
  'validation-failed': {
    status: 400,
    title: 'Request validation failed',
    extensions: (error) => (error instanceof ValidationError ? { errors: error.errors } : {}),
  },
  'malformed-json': { status: 400, title: 'Malformed JSON body' },
  'idempotency-key-missing': { status: 400, title: 'Idempotency-Key is missing or invalid' },
  'unknown-request-type': { status: 400, title: 'Unknown request type' },
  'unsafe-webhook-url': { status: 400, title: 'Webhook URL not allowed' },
  unauthorized: { status: 401, title: 'Unauthorized', headers: () => ({ 'WWW-Authenticate': 'Bearer realm="herald"' }) },
  'not-found': { status: 404, title: 'Not found' },
  conflict: { status: 409, title: 'Conflict' },
  'request-not-cancellable': {
    status: 409,
    title: 'Request can no longer be cancelled',
    extensions: (error) => (error instanceof RequestNotCancellableError ? { currentStatus: error.currentStatus, attempts: error.attempts } : {}),
  },
  'endpoint-limit-reached': { status: 409, title: 'Endpoint limit reached' },
  'callback-secret-missing': { status: 409, title: 'Callback signing secret missing' },
  'payload-too-large': { status: 413, title: 'Payload too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type', headers: () => ({ 'Accept-Post': 'application/json' }) },
  'quota-exceeded': {
    status: 429,
    title: 'Quota exceeded',
    headers: (error): Record<string, string> => (error instanceof QuotaExceededError ? { 'Retry-After': String(error.retryAfterSeconds) } : {}),
    extensions: (error) => (error instanceof QuotaExceededError ? { quota: error.quota, limit: error.limit } : {}),
  },
  'stream-limit-reached': {
    status: 429,
    title: 'Too many open event streams',
    headers: (error): Record<string, string> => (error instanceof StreamLimitReachedError ? { 'Retry-After': String(error.retryAfterSeconds) } : {}),
    extensions: (error) => (error instanceof StreamLimitReachedError ? { limit: error.limit } : {}),
  },
  'idempotency-key-reused': { status: 422, title: 'Idempotency-Key reused with a different body' },
  'notification-rejected': { status: 422, title: 'Notification rejected' },
  'service-unavailable': { status: 503, title: 'Service unavailable', headers: retryAfter },
};

const INTERNAL_ERROR_DETAIL = 'An unexpected error occurred; it has been logged with this X-Request-ID';

/** The problem document a thrown error becomes: its row of `PROBLEMS`, or a generic 500 that hides it. */
export function problemResponse(error: unknown, instance?: string): HttpResult {
  const shape = error instanceof HeraldError ? PROBLEMS[error.code] : undefined;
  if (!(error instanceof HeraldError) || !shape) {
    logger.error('Unexpected error', { error: error as Error });
    return problem(500, 'internal-error', 'Internal server error', INTERNAL_ERROR_DETAIL, instance);
  }
  if (shape.status >= 500) logger.error(error.message, { error });
  else logger.info('Request refused', { code: error.code, error: error.name, status: shape.status, detail: error.message });
  return problem(shape.status, error.code, shape.title, error.message, instance, shape.extensions?.(error), shape.headers?.(error));
}

function problem(
  status: number,
  code: string,
  title: string,
  detail: string,
  instance?: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): HttpResult {
  return {
    statusCode: status,
    headers: { 'Content-Type': 'application/problem+json', ...headers },
    body: JSON.stringify({ type: PROBLEM_TYPE_BASE + code, title, status, detail, ...(instance ? { instance } : {}), ...extra }),
  };
}
