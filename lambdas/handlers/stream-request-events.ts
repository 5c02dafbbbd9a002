import middy from '@middy/core';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { AUTHORIZER_CACHE_TTL_SECONDS, eventStreams } from '../settings/api';
import { AUTHORIZATION_FORMAT, bearerTokenOf, hashApiKey } from '../core/merchants/api-keys';
import { NotFoundError, StreamLimitReachedError, UnauthorizedError } from '../core/shared/errors';
import { ExpiringCache } from '../core/shared/expiring-cache';
import { assertRequestId } from '../core/requests/ids';
import { DEFAULT_STREAM_LIMITS, followRequest, streamFinishedFor, type StreamLimits } from '../core/requests/request-events';
import type { HeraldRequest } from '../core/requests/request';
import { merchantStore, requestPorts, streamSlots } from './shared/dependencies';
import { invocationLogContext, metricsFlush, problemDetails, traceIdOfRequest, type TracedContext } from './shared/middlewares';
import { logger } from './shared/observability';

/**
 * What the handler answers: status and headers at once, then a body that is either whole (a 204,
 * a problem) or a stream the events are written to as the request moves.
 */
export interface StreamedResult {
  readonly statusCode: number;
  headers: Record<string, string>;
  readonly body: string | Readable;
}

const EVENTS_PATH = /^\/v1\/requests\/([^/]+)\/events\/?$/;

/**
 * GET /v1/requests/{id}/events: the request's transitions as server-sent events until it is
 * terminal. The HTTP API cannot stream, so on AWS this runs behind a Lambda function URL in
 * RESPONSE_STREAM mode; the URL itself is public, so the API key is checked here with the same
 * lookup the authorizer makes (and cached as long), and another merchant's request is a 404 as on
 * the status route. A merchant holds at most `eventStreams.maxOpenPerMerchant` streams at once
 * (429 beyond), and a client that reconnects after the terminal event gets a 204, which stops a
 * browser's EventSource.
 *
 * The same middlewares as the API routes trace it and turn a refusal into its problem; middy's
 * streaming mode pipes the body to Lambda's response stream. Where Lambda's `streamifyResponse`
 * does not exist (the local runtime, tests) the handler returns the result and its caller pipes
 * the body to a Node response.
 */
export function requestEventsHandler(limits: StreamLimits = DEFAULT_STREAM_LIMITS) {
  const streaming = typeof (globalThis as { awslambda?: { streamifyResponse?: unknown } }).awslambda?.streamifyResponse === 'function';
  return middy<LambdaFunctionURLEvent, StreamedResult, Error, TracedContext>({ streamifyResponse: streaming })
    .use(invocationLogContext())
    .use(traceIdOfRequest())
    .use(metricsFlush())
    .use(problemDetails())
    .handler((event, context) => openRequestEvents(event, context.traceId, limits));
}

export const handler = requestEventsHandler();

async function openRequestEvents(event: LambdaFunctionURLEvent, traceId: string, limits: StreamLimits): Promise<StreamedResult> {
  const id = EVENTS_PATH.exec(event.rawPath ?? '')?.[1];
  if (event.requestContext?.http?.method !== 'GET' || !id) {
    throw new NotFoundError('This URL serves GET /v1/requests/{id}/events only');
  }
  const merchantId = await merchantOf(event);
  // Checked as sent: a request id has nothing to percent-decode, and `%ff` must be a 404, not a URIError.
  assertRequestId(id);
  const request = await requestPorts().queries.getForMerchant(merchantId, id);
  if (!request) throw new NotFoundError(`No request ${id} exists for this merchant`);
  const lastEventId = event.headers?.['last-event-id'] ?? event.queryStringParameters?.lastEventId;
  if (streamFinishedFor(request, lastEventId)) {
    return { statusCode: 204, headers: { 'Cache-Control': 'no-store' }, body: '' };
  }
  const streamId = randomUUID();
  const until = new Date(Date.now() + limits.maxDurationMs + eventStreams.leaseMarginSeconds * 1000);
  if (!(await streamSlots().acquire(merchantId, streamId, until))) {
    throw new StreamLimitReachedError(eventStreams.maxOpenPerMerchant, Math.ceil(limits.reconnectMs / 1000));
  }
  const body = new PassThrough();
  // The follow loop outlives this call (it writes while the body is piped), so it logs with its own trace id.
  void follow(request, merchantId, streamId, lastEventId, body, logger.createChild({ persistentKeys: { traceId } }), limits);
  return {
    statusCode: 200,
    headers: {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      // Asks buffering proxies (nginx and the like) to pass each event on at once.
      'X-Accel-Buffering': 'no',
    },
    body,
  };
}

/** Writes the request's events to `body` until it ends, then gives the merchant's stream slot back. */
async function follow(
  request: HeraldRequest,
  merchantId: string,
  streamId: string,
  lastEventId: string | undefined,
  body: PassThrough,
  log: typeof logger,
  limits: StreamLimits,
): Promise<void> {
  let released: Promise<void> | undefined;
  const release = () =>
    (released ??= streamSlots()
      .release(merchantId, streamId)
      .catch((error: unknown) => log.warn('Stream slot not given back; its lease frees it', { error: error as Error })));
  // A client that leaves frees its slot at once, not at the loop's next look.
  body.once('close', () => void release());
  const sink = { write: (text: string) => void body.write(text), get closed() { return body.destroyed || body.writableEnded; } };
  try {
    const store = requestPorts().queries;
    const ended = await followRequest(request, lastEventId, sink, { read: () => store.getForMerchant(merchantId, request.id), sleep: (ms) => sleep(ms) }, limits);
    log.info('Event stream ended', { requestId: request.id, reason: ended });
  } catch (error) {
    // Headers are gone already: the client sees the stream end and reconnects with Last-Event-ID.
    log.error('Event stream failed', { error: error as Error });
  } finally {
    // Given back before the body ends: on AWS the invocation, and with it this container's work, ends with the body.
    await release();
    body.end();
  }
}

/** A key's merchant or why it was refused, kept per container as long as API Gateway keeps an authorizer's answer. */
const keyChecks = new ExpiringCache<{ merchantId: string } | { refused: string }>(AUTHORIZER_CACHE_TTL_SECONDS * 1000, 10_000);

async function merchantOf(event: LambdaFunctionURLEvent): Promise<string> {
  const header = event.headers?.authorization;
  if (!header) throw new UnauthorizedError('An API key is required: send Authorization: Bearer <api key>');
  const token = bearerTokenOf(header);
  if (!token) throw new UnauthorizedError(AUTHORIZATION_FORMAT);
  // Keyed by the digest, so the cache holds no key in the clear.
  const digest = hashApiKey(token);
  let check = keyChecks.get(digest);
  if (!check) {
    const key = await merchantStore().findActiveApiKey(token);
    check = key ? { merchantId: key.merchantId } : { refused: 'The API key is unknown or has been revoked' };
    keyChecks.set(digest, check);
  }
  if ('refused' in check) throw new UnauthorizedError(check.refused);
  return check.merchantId;
}
