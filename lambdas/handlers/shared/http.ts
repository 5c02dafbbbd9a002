import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2WithLambdaAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import {
  HeraldError,
  MalformedJsonError,
  PayloadTooLargeError,
  RequestNotCancellableError,
  ServiceUnavailableError,
  StreamLimitReachedError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../../core/shared/errors';
import { QuotaExceededError } from '../../core/merchants/merchant-quotas';
import { parseJsonBody } from '../../core/shared/json-body';
import { flushMetrics, logger } from './observability';

/** What the API-key authorizer puts in the request context (simple responses: `authorizer.lambda`). */
export interface AuthorizerContext {
  readonly merchantId?: string;
  /** Why the key was refused; the handler turns it into a 401 problem (API Gateway itself can only say 403). */
  readonly authError?: string;
}

export type HttpEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<AuthorizerContext>;
export type HttpResult = APIGatewayProxyStructuredResultV2 & { headers: Record<string, string> };
type HttpRoute = (event: HttpEvent, context: Context & { traceId: string }) => Promise<HttpResult>;

export const PROBLEM_TYPE_BASE = 'https://herald.dev/problems/';

const TRACE_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Wraps one route's use case in Herald's HTTP pipeline: header normalization, the trace id
 * (the client's `X-Request-ID` when usable, a new one otherwise) on every log line and response,
 * and the exposure rule for errors: a `HeraldError` becomes its RFC 9457 problem, anything else
 * a generic 500 that is logged with the trace id but never shown. The metrics the route counted
 * are written out at the end of every invocation, whatever its outcome.
 */
export function httpRoute(route: HttpRoute) {
  return middy<HttpEvent, HttpResult>()
    .use(httpHeaderNormalizer())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      const clientTraceId = event.headers?.['x-request-id'];
      const traceId = clientTraceId && TRACE_ID_PATTERN.test(clientTraceId) ? clientTraceId : randomUUID();
      logger.appendKeys({ traceId });
      let result: HttpResult;
      try {
        result = await route(event, Object.assign(context, { traceId }));
      } catch (error) {
        result = problemResponse(error, event.rawPath);
      } finally {
        flushMetrics();
      }
      result.headers['X-Request-ID'] = traceId;
      return result;
    });
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export function empty(statusCode: number, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers, body: '' };
}

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

/** The merchant the authorizer resolved, or a 401 explaining why there is none. */
export function merchantIdOf(event: HttpEvent): string {
  const context = event.requestContext.authorizer?.lambda;
  if (context?.merchantId) return context.merchantId;
  throw new UnauthorizedError(context?.authError ?? 'An API key is required: send Authorization: Bearer <api key>');
}

/** The raw body as text (API Gateway base64-encodes bodies it considers binary). */
export function bodyTextOf(event: HttpEvent): string {
  if (!event.body) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

/**
 * Parses a JSON body no larger than `maxBytes`, refusing oversize bodies with 413 before parsing,
 * other media types with 415, and JSON that could not be stored as sent with 400 (`parseJsonBody`).
 */
export function jsonBodyOf(event: HttpEvent, maxBytes: number): unknown {
  const mediaType = headerOf(event, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  // No Content-Type is taken for JSON, as curl users often omit it; a different one is refused.
  if (mediaType && !JSON_MEDIA_TYPE.test(mediaType)) throw new UnsupportedMediaTypeError(mediaType.slice(0, 100));
  const text = bodyTextOf(event);
  const size = Buffer.byteLength(text, 'utf8');
  if (size > maxBytes) throw new PayloadTooLargeError(maxBytes, size);
  if (text.trim() === '') throw new MalformedJsonError('The request body is empty; a JSON object is expected');
  return parseJsonBody(text);
}

const JSON_MEDIA_TYPE = /^application\/([a-z0-9.+-]+\+)?json$/;

export function headerOf(event: HttpEvent, name: string): string | undefined {
  return event.headers?.[name.toLowerCase()];
}
