import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { problemResponse, type HttpResult } from './problems';
import { flushMetrics, logger } from './observability';

/**
 * The middlewares every Herald handler is built from, so that the API routes, the event stream and
 * the scheduled jobs trace, refuse and count the same way. Middy runs `before` in the order of
 * `use` and `after`/`onError` in reverse: a handler uses them in the order this file lists them.
 */

/** A handler's context once `traceIdOfRequest` has run. */
export type TracedContext = Context & { traceId: string };

interface HttpLikeEvent {
  readonly headers?: Readonly<Record<string, string | undefined>>;
  readonly rawPath?: string;
}

/** What an HTTP-facing handler answers: a status, headers, and a body (text, or a stream for the event stream). */
interface HttpLikeResult {
  readonly statusCode?: number;
  headers?: Record<string, string | number | boolean>;
}

const TRACE_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** The function's context (cold start, request id) on every log line, and the previous invocation's keys dropped. */
export const invocationLogContext = () => injectLambdaContext(logger, { resetKeys: true });

/**
 * The trace id of an HTTP invocation: the client's `X-Request-ID` when usable, a new one otherwise.
 * It is put on the context for the use case, on every log line, and on the response, refusals included.
 */
export function traceIdOfRequest(): MiddlewareObj<HttpLikeEvent, HttpLikeResult, Error, TracedContext> {
  const echo = ({ context, response }: { context: TracedContext; response: HttpLikeResult | null | undefined }) => {
    if (response && context.traceId) response.headers = { ...response.headers, 'X-Request-ID': context.traceId };
  };
  return {
    before: ({ event, context }) => {
      const clientTraceId = event.headers?.['x-request-id'];
      const traceId = clientTraceId && TRACE_ID_PATTERN.test(clientTraceId) ? clientTraceId : randomUUID();
      context.traceId = traceId;
      logger.appendKeys({ traceId });
    },
    after: echo,
    onError: echo,
  };
}

/**
 * The exposure rule for errors at the HTTP edge: a `HeraldError` becomes its RFC 9457 problem,
 * anything else a generic 500 that is logged with the trace id but never shown.
 */
export function problemDetails(): MiddlewareObj<HttpLikeEvent, HttpResult> {
  return {
    onError: (request) => {
      request.response = problemResponse(request.error, request.event.rawPath);
    },
  };
}

/**
 * Writes the invocation's metrics out whatever its outcome. Not Powertools' `logMetrics`: that one
 * warns "No application metrics to publish" on every invocation that counted nothing.
 */
export function metricsFlush(): MiddlewareObj {
  return { after: flushMetrics, onError: flushMetrics };
}

/**
 * A scheduled job's handler: the function's context on every log line and its metrics written out.
 * No trace id of its own: each line about a request carries the trace id that request was submitted with.
 * A failure is thrown on, so Lambda's retry and the errors alarm see it.
 */
export function scheduledJob<R>(job: (context: Context) => Promise<R>) {
  return middy<unknown, R>().use(invocationLogContext()).use(metricsFlush()).handler((_event, context) => job(context));
}
