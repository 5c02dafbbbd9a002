import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AUTHORIZER_CACHE_TTL_SECONDS, eventStreams } from '../settings/api';
import { AUTHORIZATION_FORMAT, bearerTokenOf, hashApiKey } from '../core/merchants/api-keys';
import { NotFoundError, StreamLimitReachedError, UnauthorizedError } from '../core/shared/errors';
import { ExpiringCache } from '../core/shared/expiring-cache';
import { assertRequestId } from '../core/requests/ids';
import { DEFAULT_STREAM_LIMITS, followRequest, streamFinishedFor, type StreamLimits } from '../core/requests/request-events';
import { merchantStore, requestStore, streamSlots } from './shared/dependencies';
import { problemResponse } from './shared/http';
import { logger } from './shared/observability';

/** A streamed HTTP response: a Lambda response stream on AWS, a Node response in the local runtime. */
export interface StreamingResponse {
  start(statusCode: number, headers: Record<string, string>): void;
  write(text: string): void;
  end(): void;
  readonly closed: boolean;
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
 */
export async function serveRequestEvents(
  event: LambdaFunctionURLEvent,
  response: StreamingResponse,
  limits: StreamLimits = DEFAULT_STREAM_LIMITS,
): Promise<void> {
  const clientTraceId = event.headers?.['x-request-id'];
  const traceId = clientTraceId && /^[A-Za-z0-9._:-]{1,128}$/.test(clientTraceId) ? clientTraceId : randomUUID();
  logger.appendKeys({ traceId });
  let started = false;
  const streamId = randomUUID();
  let slotHeld: string | undefined;
  try {
    const id = EVENTS_PATH.exec(event.rawPath ?? '')?.[1];
    if (event.requestContext?.http?.method !== 'GET' || !id) {
      throw new NotFoundError('This URL serves GET /v1/requests/{id}/events only');
    }
    const merchantId = await merchantOf(event);
    const store = requestStore();
    // Checked as sent: a request id has nothing to percent-decode, and `%ff` must be a 404, not a URIError.
    assertRequestId(id);
    const request = await store.getForMerchant(merchantId, id);
    if (!request) throw new NotFoundError(`No request ${id} exists for this merchant`);
    const lastEventId = event.headers?.['last-event-id'] ?? event.queryStringParameters?.lastEventId;
    if (streamFinishedFor(request, lastEventId)) {
      response.start(204, { 'Cache-Control': 'no-store', 'X-Request-ID': traceId });
      started = true;
      return;
    }
    const until = new Date(Date.now() + limits.maxDurationMs + eventStreams.leaseMarginSeconds * 1000);
    if (!(await streamSlots().acquire(merchantId, streamId, until))) {
      throw new StreamLimitReachedError(eventStreams.maxOpenPerMerchant, Math.ceil(limits.reconnectMs / 1000));
    }
    slotHeld = merchantId;
    response.start(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Request-ID': traceId,
      // Asks buffering proxies (nginx and the like) to pass each event on at once.
      'X-Accel-Buffering': 'no',
    });
    started = true;
    const ended = await followRequest(request, lastEventId, response, { read: () => store.getForMerchant(merchantId, request.id), sleep: (ms) => sleep(ms) }, limits);
    logger.info('Event stream ended', { requestId: request.id, reason: ended });
  } catch (error) {
    if (started) {
      // Headers are gone already: the client sees the stream end and reconnects with Last-Event-ID.
      logger.error('Event stream failed', { error: error as Error });
    } else {
      const problem = problemResponse(error, event.rawPath);
      response.start(problem.statusCode ?? 500, { ...problem.headers, 'X-Request-ID': traceId });
      response.write(String(problem.body ?? ''));
    }
  } finally {
    response.end();
    if (slotHeld) await streamSlots().release(slotHeld, streamId).catch((error: unknown) => logger.warn('Stream slot not given back; its lease frees it', { error: error as Error }));
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

/** The Lambda response stream as a StreamingResponse: status and headers go first, as the function URL's prelude. */
function lambdaResponse(stream: awslambda.HttpResponseStream): StreamingResponse {
  let body: NodeJS.WritableStream = stream;
  return {
    start(statusCode, headers) {
      body = awslambda.HttpResponseStream.from(stream, { statusCode, headers });
    },
    write: (text) => void body.write(text),
    end: () => body.end(),
    get closed() {
      return stream.writableEnded || stream.destroyed;
    },
  };
}

/**
 * The function URL's entry point. `awslambda.streamifyResponse` exists in the Lambda Node.js
 * runtime only (elsewhere a library may define `awslambda` with other members); outside Lambda
 * (the local runtime, tests) `serveRequestEvents` is called with a Node response instead.
 */
export const handler =
  typeof (globalThis as { awslambda?: { streamifyResponse?: unknown } }).awslambda?.streamifyResponse !== 'function'
    ? async () => {
        throw new Error('stream-request-events runs on Lambda with response streaming; locally the runtime calls serveRequestEvents');
      }
    : awslambda.streamifyResponse(async (event: LambdaFunctionURLEvent, stream) => {
        await serveRequestEvents(event, lambdaResponse(stream));
      });
