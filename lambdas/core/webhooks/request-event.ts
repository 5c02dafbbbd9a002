import type { HeraldRequest } from '../requests/request';
import { type EndpointSettings, type RequestEventType, TEST_EVENT_TYPE } from './endpoint';

/** The event type a finished request announces, if any: a cancelled request announces nothing. */
export function eventTypeOf(request: HeraldRequest): RequestEventType | undefined {
  if (request.status === 'succeeded') return 'request.succeeded';
  if (request.status === 'failed') return 'request.failed';
  return undefined;
}

/** A request event as receivers get it in full, and as filters see it. */
export interface RequestEvent {
  readonly type: RequestEventType;
  readonly timestamp: string;
  readonly data: Record<string, unknown>;
}

export function requestEvent(request: HeraldRequest, type: RequestEventType, timestamp: string): RequestEvent {
  return {
    type,
    timestamp,
    data: {
      id: request.id,
      type: request.type,
      status: request.status,
      ...(request.status === 'succeeded' ? { result: request.result ?? null } : {}),
      ...(request.status === 'failed' && request.error ? { error: request.error } : {}),
      createdAt: request.createdAt,
      updatedAt: request.updatedAt,
    },
  };
}

/** The body of a request event, as receivers get it. */
export function requestEventBody(request: HeraldRequest, type: RequestEventType, timestamp: string): string {
  return JSON.stringify(requestEvent(request, type, timestamp));
}

/** Where a request can be fetched with the merchant's API key: the API's `GET /v1/requests/{id}`. */
export type RequestUrlOf = (requestId: string) => string;
/** The link where no public API URL is known: the path, relative to the API the merchant calls. */
export const requestPathOf: RequestUrlOf = (requestId) => `/v1/requests/${requestId}`;

/**
 * A thin event (Stripe's name): what identifies the event and its request, its times, and the
 * URL to fetch the request from, never its payload, result or error, so a receiver that must not
 * hold that data fetches it with its own key when it needs it.
 */
export function thinRequestEvent(event: RequestEvent, requestUrlOf: RequestUrlOf) {
  const { id, type, status, createdAt, updatedAt } = event.data as Record<string, string>;
  return { type: event.type, timestamp: event.timestamp, data: { id, type, status, createdAt, updatedAt, url: requestUrlOf(id!) } };
}

/** The body an endpoint gets for a request event, in its payload mode. */
export function eventBodyFor(endpoint: Pick<EndpointSettings, 'payloadMode'>, event: RequestEvent, requestUrlOf: RequestUrlOf = requestPathOf, fullBody?: string): string {
  if (endpoint.payloadMode === 'thin') return JSON.stringify(thinRequestEvent(event, requestUrlOf));
  return fullBody ?? JSON.stringify(event);
}

/** The body of a `webhook.test` event: the same for every attempt of one test delivery. */
export function testEventBody(endpointId: string, eventId: string, timestamp: string): string {
  return JSON.stringify({
    type: TEST_EVENT_TYPE,
    timestamp,
    data: { id: eventId, endpointId, message: 'This is a test event from Herald' },
  });
}
