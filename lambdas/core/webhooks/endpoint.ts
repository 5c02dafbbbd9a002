import { randomBytes } from 'node:crypto';
import { matchesFilter, type WebhookFilter } from './webhook-filter';
import { generateKeyPair, publishedKeyOf, type PublishedKey, type SignatureScheme } from './webhook-signatures';
import { type RequestEvent } from './request-event';

/**
 * Webhook endpoints, the events Herald sends them and the deliveries that carry one event to one
 * endpoint. Pure: ids, event bodies, filters and the public views; storage and HTTP live in adapters.
 */

export const REQUEST_EVENT_TYPES = ['request.succeeded', 'request.failed'] as const;
export type RequestEventType = (typeof REQUEST_EVENT_TYPES)[number];
export const TEST_EVENT_TYPE = 'webhook.test';
export type WebhookEventType = RequestEventType | typeof TEST_EVENT_TYPE;

export const SECRET_PREFIX = 'whsec_';

/** A new signing secret: `whsec_` and 32 random bytes in base64, the form Standard Webhooks libraries accept. */
export function generateSigningSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

export interface SigningSecret {
  readonly secret: string;
  readonly createdAt: string;
  /** Set on a rotated-out secret: it keeps signing next to the new one until then. */
  readonly expiresAt?: string;
}

export type EndpointStatus = 'enabled' | 'disabled';

/** What an endpoint's events carry: the whole request event, or only what identifies it and where to fetch it. */
export const PAYLOAD_MODES = ['full', 'thin'] as const;
export type PayloadMode = (typeof PAYLOAD_MODES)[number];

export interface WebhookEndpoint {
  readonly id: string;
  readonly merchantId: string;
  readonly url: string;
  readonly description?: string;
  /** Absent: every event type. */
  readonly eventTypes?: readonly RequestEventType[];
  /** Deliveries per second this endpoint takes at most, across every worker; absent: no limit. */
  readonly rateLimitPerSecond?: number;
  /** Conditions on the event body (lambdas/core/webhooks/webhook-filter.ts); absent: every event of its types. */
  readonly filter?: WebhookFilter;
  /** Absent: `full`. */
  readonly payloadMode?: PayloadMode;
  /** Absent: `v1`. Chosen at registration: rotation keeps the scheme. */
  readonly signatureScheme?: SignatureScheme;
  /** `v1a` only: the public half of the current secret key (`whpk_…`); public, so kept with the settings. */
  readonly publicKey?: string;
  /** `v1a` only: the rotated-out key's public half, published until the old key stops signing. */
  readonly previousPublicKey?: { readonly key: string; readonly expiresAt: string };
  readonly status: EndpointStatus;
  readonly disabledReason?: string;
  readonly disabledAt?: string;
  readonly secret: SigningSecret;
  readonly previousSecret?: SigningSecret;
  /** When the current run of failed attempts began; cleared by the next success. */
  readonly failingSince?: string;
  /** Refreshed at most hourly, so that a healthy endpoint costs no write per delivery. */
  readonly lastSuccessAt?: string;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * An endpoint without its signing secrets: what a function that may not read the secrets (the
 * fan-out, listings) gets. The secrets live apart, readable only where they are managed or used.
 */
export type EndpointSettings = Omit<WebhookEndpoint, 'secret' | 'previousSecret'>;

/** What a merchant sees of an endpoint: never a secret, except right after creating or rotating it. */
export interface EndpointView {
  readonly id: string;
  readonly url: string;
  readonly description?: string;
  readonly eventTypes: readonly string[];
  readonly filter?: WebhookFilter;
  readonly payloadMode: PayloadMode;
  readonly rateLimitPerSecond?: number;
  readonly signatureScheme: SignatureScheme;
  readonly publicKey?: string;
  readonly disabled: boolean;
  readonly disabledReason?: string;
  readonly disabledAt?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly secret?: string;
}

export function presentEndpoint(endpoint: EndpointSettings & { readonly secret?: SigningSecret }, options: { withSecret?: boolean } = {}): EndpointView {
  return {
    id: endpoint.id,
    url: endpoint.url,
    ...(endpoint.description !== undefined ? { description: endpoint.description } : {}),
    eventTypes: endpoint.eventTypes ?? [...REQUEST_EVENT_TYPES],
    ...(endpoint.filter ? { filter: endpoint.filter } : {}),
    payloadMode: endpoint.payloadMode ?? 'full',
    ...(endpoint.rateLimitPerSecond !== undefined ? { rateLimitPerSecond: endpoint.rateLimitPerSecond } : {}),
    signatureScheme: endpoint.signatureScheme ?? 'v1',
    ...(endpoint.publicKey ? { publicKey: endpoint.publicKey } : {}),
    disabled: endpoint.status === 'disabled',
    ...(endpoint.disabledReason ? { disabledReason: endpoint.disabledReason } : {}),
    ...(endpoint.disabledAt ? { disabledAt: endpoint.disabledAt } : {}),
    createdAt: endpoint.createdAt,
    updatedAt: endpoint.updatedAt,
    // A v1a secret key never leaves Herald: the merchant gets the public key instead.
    ...(options.withSecret && endpoint.secret && endpoint.signatureScheme !== 'v1a' ? { secret: endpoint.secret.secret } : {}),
  };
}

/** A fresh signing secret of an endpoint's scheme, and for `v1a` the public key that goes with it. */
export function newSigningSecret(scheme: SignatureScheme | undefined, createdAt: string): { secret: SigningSecret; publicKey?: string } {
  if (scheme !== 'v1a') return { secret: { secret: generateSigningSecret(), createdAt } };
  const pair = generateKeyPair();
  return { secret: { secret: pair.secretKey, createdAt }, publicKey: pair.publicKey };
}

/** The public keys a `v1a` endpoint signs with now: the current one, and the rotated-out one until it expires. */
export function publishedKeysOf(endpoint: EndpointSettings, now: Date): PublishedKey[] {
  if (endpoint.signatureScheme !== 'v1a' || !endpoint.publicKey) return [];
  const previous = endpoint.previousPublicKey;
  const keepPrevious = previous !== undefined && previous.expiresAt > now.toISOString();
  return [publishedKeyOf(endpoint.publicKey), ...(keepPrevious ? [publishedKeyOf(previous.key, previous.expiresAt)] : [])];
}

/** The secrets that sign right now: the current one, and the previous one until it expires. */
export function activeSecrets(endpoint: WebhookEndpoint, now: Date): string[] {
  const previous = endpoint.previousSecret;
  const keepPrevious = previous?.expiresAt !== undefined && previous.expiresAt > now.toISOString();
  return [endpoint.secret.secret, ...(keepPrevious ? [previous.secret] : [])];
}

/** Whether an endpoint wants an event type; the test event goes to whoever asks for it. */
export function subscribes(endpoint: EndpointSettings, type: WebhookEventType): boolean {
  if (type === TEST_EVENT_TYPE) return true;
  return endpoint.eventTypes === undefined || endpoint.eventTypes.includes(type);
}

/** Whether an endpoint takes an event: its type is one the endpoint asks for and its body passes the endpoint's filter. */
export function takesEvent(endpoint: EndpointSettings, event: RequestEvent): boolean {
  return subscribes(endpoint, event.type) && (endpoint.filter === undefined || matchesFilter(endpoint.filter, event));
}
