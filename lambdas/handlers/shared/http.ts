import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEventV2WithLambdaAuthorizer } from 'aws-lambda';
import { MalformedJsonError, PayloadTooLargeError, UnauthorizedError, UnsupportedMediaTypeError } from '../../core/shared/errors';
import { parseJsonBody } from '../../core/shared/json-body';
import { invocationLogContext, metricsFlush, problemDetails, traceIdOfRequest, type TracedContext } from './middlewares';
import type { HttpResult } from './problems';

/** What the API-key authorizer puts in the request context (simple responses: `authorizer.lambda`). */
export interface AuthorizerContext {
  readonly merchantId?: string;
  /** Why the key was refused; the handler turns it into a 401 problem (API Gateway itself can only say 403). */
  readonly authError?: string;
}

export type HttpEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<AuthorizerContext>;
type HttpRoute = (event: HttpEvent, context: TracedContext) => Promise<HttpResult>;

/**
 * Wraps one route's use case in Herald's HTTP pipeline: header normalization, the function's
 * context and the trace id on every log line and response, a thrown error answered as its RFC 9457
 * problem, and the metrics the route counted written out whatever the outcome.
 */
export function httpRoute(route: HttpRoute) {
  return middy<HttpEvent, HttpResult, Error, TracedContext>()
    .use(httpHeaderNormalizer())
    .use(invocationLogContext())
    .use(traceIdOfRequest())
    .use(metricsFlush())
    .use(problemDetails())
    .handler(route);
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export function empty(statusCode: number, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers, body: '' };
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
