import { HeraldError, ValidationError } from '../shared/errors';
import type { HeraldRequest } from '../requests/request';
import * as z from '../shared/schema';
import { UnsafeWebhookUrlError } from './webhook-url';
import { deliveryIdOf } from './delivery';
import { REQUEST_EVENT_TYPES, type RequestEventType, type SigningSecret, type WebhookEndpoint } from './endpoint';
import { type DeliveryMessage } from './delivery-message';

/**
 * A callback per request: the URL a client names when it submits a request (`callbackUrl`), told
 * of the request's end like a webhook endpoint is, signed with the merchant's callback signing
 * secret. The callback is one more delivery target of the request, under the target id
 * `callback`: its deliveries sit beside the endpoints' in the request's delivery list and go
 * through the same worker, retries, DLQ and SSRF checks.
 */

/** The endpoint id a callback's deliveries carry; no endpoint id can take it (those are `ep_` ids). */
export const CALLBACK_TARGET_ID = 'callback';

/** The longest `callbackUrl` accepted: the same bound as an endpoint's URL, and it keeps the request item small. */
export const MAX_CALLBACK_URL_LENGTH = 2048;

/** Where a request's end is told, and which of its events. */
export interface RequestCallback {
  readonly url: string;
  /** Absent: every terminal event (`request.succeeded`, `request.failed`). */
  readonly events?: readonly RequestEventType[];
}

/** The submit fields of a callback, merged into the request body's schema. */
export const callbackFields = {
  callbackUrl: z.optional(
    z
      .string({ error: 'callbackUrl must be a string' })
      .check(z.minLength(1, 'callbackUrl must not be empty'), z.maxLength(MAX_CALLBACK_URL_LENGTH, `callbackUrl may be at most ${MAX_CALLBACK_URL_LENGTH} characters long`)),
  ),
  callbackEvents: z.optional(
    z
      .array(z.enum(REQUEST_EVENT_TYPES, { error: `must be one of ${REQUEST_EVENT_TYPES.join(', ')}` }))
      .check(z.minLength(1, 'callbackEvents must name at least one event type'), z.maxLength(REQUEST_EVENT_TYPES.length)),
  ),
};

/** The request asked for a callback, but its merchant has no callback signing secret to sign it with. */
export class CallbackSecretMissingError extends HeraldError {
  override readonly name = 'CallbackSecretMissingError';

  constructor(then = 'then submit again') {
    super(
      'callback-secret-missing',
      `This merchant has no callback signing secret yet: call GET /v1/callback-secret once to create it (it is shown in that answer only), ${then}`,
    );
  }
}

/** `callbackUrl` failed the SSRF rules at submit: the same rules, and the same problem code, as an endpoint's URL. */
export class UnsafeCallbackUrlError extends HeraldError {
  override readonly name = 'UnsafeCallbackUrlError';

  constructor(refusal: UnsafeWebhookUrlError) {
    super('unsafe-webhook-url', `callbackUrl is refused: ${refusal.message}`, { cause: refusal });
  }
}

/** What submit needs to accept a callback: the SSRF check and whether the merchant can sign one. */
export interface CallbackIntake {
  /** Checks a URL against the SSRF rules (and DNS); throws `UnsafeWebhookUrlError` naming the rule it broke. */
  readonly checkUrl: (url: string) => Promise<unknown>;
  readonly hasSecret: (merchantId: string) => Promise<boolean>;
}

/**
 * The callback a submission asks for, checked before anything is stored: `callbackEvents`
 * without a `callbackUrl` is refused, the URL must pass the SSRF rules, and the merchant must
 * hold a callback signing secret. Undefined when the submission names no callback.
 */
export async function acceptCallback(
  intake: CallbackIntake | undefined,
  merchantId: string,
  fields: { readonly callbackUrl?: string; readonly callbackEvents?: readonly RequestEventType[] },
): Promise<RequestCallback | undefined> {
  if (fields.callbackUrl === undefined) {
    if (fields.callbackEvents === undefined) return undefined;
    const message = 'callbackEvents needs a callbackUrl to send them to';
    throw new ValidationError(`The request body is invalid: ${message}`, [{ path: '/callbackEvents', message }]);
  }
  if (!intake) {
    const message = 'callbacks are not available on this deployment';
    throw new ValidationError(`The request body is invalid: ${message}`, [{ path: '/callbackUrl', message }]);
  }
  try {
    await intake.checkUrl(fields.callbackUrl);
  } catch (error) {
    if (error instanceof UnsafeWebhookUrlError) throw new UnsafeCallbackUrlError(error);
    throw error;
  }
  if (!(await intake.hasSecret(merchantId))) throw new CallbackSecretMissingError();
  return { url: fields.callbackUrl, ...(fields.callbackEvents ? { events: [...new Set(fields.callbackEvents)] } : {}) };
}

/** A request's callback as its status shows it: the URL, and the events it is told of. */
export function presentCallback(callback: RequestCallback): { readonly url: string; readonly events: readonly RequestEventType[] } {
  return { url: callback.url, events: callback.events ?? [...REQUEST_EVENT_TYPES] };
}

export const isCallbackTarget = (endpointId: string): boolean => endpointId === CALLBACK_TARGET_ID;

/** Whether a request's callback wants an event type. */
export function callbackTakes(request: Pick<HeraldRequest, 'callback'>, type: RequestEventType): boolean {
  const callback = request.callback;
  return callback !== undefined && (callback.events === undefined || callback.events.includes(type));
}

/**
 * The queue message of a request's callback for its end event, beside the endpoints' own. Its
 * delivery id derives from (request, `callback`, event) like theirs, so a repeated fan-out or a
 * replayed submit names the same delivery and never adds a second callback.
 */
export function callbackMessageOf(request: HeraldRequest, type: RequestEventType, timestamp: string, payload: string | undefined): DeliveryMessage {
  return {
    deliveryId: deliveryIdOf(request.id, CALLBACK_TARGET_ID, type),
    merchantId: request.merchantId,
    endpointId: CALLBACK_TARGET_ID,
    subjectId: request.id,
    eventType: type,
    eventTimestamp: timestamp,
    round: 1,
    ...(payload !== undefined ? { payload } : {}),
    ...(request.traceId ? { traceId: request.traceId } : {}),
  };
}

/**
 * The fair-queue tenant of a delivery message: its endpoint, or for a callback its merchant's
 * callbacks, so that one merchant's failing callbacks are not every merchant's tenant.
 */
export function deliveryTenantOf(message: Pick<DeliveryMessage, 'endpointId' | 'merchantId'>): string {
  return isCallbackTarget(message.endpointId) ? `${CALLBACK_TARGET_ID}-${message.merchantId}` : message.endpointId;
}

/** A merchant's callback signing secrets: the current one, and the rotated-out one while it still signs. */
export interface CallbackSecrets {
  readonly merchantId: string;
  readonly secret: SigningSecret;
  readonly previousSecret?: SigningSecret;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * A callback as the deliver worker posts to it: an endpoint of its own, built for the attempt from
 * the request's callback and the merchant's callback secrets. Full events, `v1` signatures, no
 * rate limit; it is never stored, so nothing disables it.
 */
export function callbackEndpointOf(request: HeraldRequest, callback: RequestCallback, secrets: CallbackSecrets): WebhookEndpoint {
  return {
    id: CALLBACK_TARGET_ID,
    merchantId: request.merchantId,
    url: callback.url,
    ...(callback.events ? { eventTypes: callback.events } : {}),
    status: 'enabled',
    secret: secrets.secret,
    ...(secrets.previousSecret ? { previousSecret: secrets.previousSecret } : {}),
    version: secrets.version,
    createdAt: request.createdAt,
    updatedAt: secrets.updatedAt,
  };
}

/** How the deliver worker finds a callback's target: the request and its merchant's callback secrets. */
export interface CallbackTargets {
  readonly loadRequest: (id: string) => Promise<HeraldRequest | undefined>;
  /** May be a few seconds old (`webhookDefaults.endpointCacheSeconds`), like an endpoint read for delivery. */
  readonly secretsOf: (merchantId: string) => Promise<CallbackSecrets | undefined>;
}

/** The callback endpoint a message names, or why there is none to post to. */
export async function resolveCallbackTarget(
  targets: CallbackTargets | undefined,
  message: Pick<DeliveryMessage, 'merchantId' | 'subjectId'>,
): Promise<{ readonly endpoint: WebhookEndpoint } | { readonly missing: string }> {
  if (!targets) return { missing: 'callbacks are not delivered by this worker' };
  const request = await targets.loadRequest(message.subjectId);
  if (!request || request.merchantId !== message.merchantId) return { missing: 'the request no longer exists' };
  if (!request.callback) return { missing: 'the request has no callback' };
  const secrets = await targets.secretsOf(message.merchantId);
  if (!secrets) return { missing: 'the merchant has no callback signing secret' };
  return { endpoint: callbackEndpointOf(request, request.callback, secrets) };
}
