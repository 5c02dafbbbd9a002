import { ulid } from 'ulid';
import { attemptDelivery, isSuccess, type AttemptDependencies } from './webhook-attempt';
import { ConflictError, HeraldError, NotFoundError, ValidationError } from '../shared/errors';
import { assertDeliveryId, assertEndpointId, assertRequestId } from '../requests/ids';
import { deliveryMessageOf } from './fan-out-webhooks';
import type { HeraldRequest } from '../requests/request';
import { validate } from '../requests/submission';
import type { DeliveryQueue, DeliveryStore, WebhookEndpointStore } from './ports';
import type { PublishedKey } from './webhook-signatures';
import { createEndpointSchema, recoverSchema, updateEndpointSchema } from './endpoint-schemas';
import { MAX_DELIVERY_ROUNDS, deliveryIdOf, type Delivery, type NewDelivery } from './delivery';
import { newSigningSecret, presentEndpoint, publishedKeysOf, TEST_EVENT_TYPE, type EndpointView, type WebhookEndpoint } from './endpoint';
import { presentDelivery } from './delivery-view';
import { testEventBody } from './request-event';

export class EndpointLimitReachedError extends HeraldError {
  override readonly name = 'EndpointLimitReachedError';

  constructor(readonly limit: number) {
    super('endpoint-limit-reached', `A merchant may register at most ${limit} webhook endpoints; delete one first`);
  }
}

/** Checks a URL against the SSRF rules (and DNS); throws `UnsafeWebhookUrlError` naming the rule it broke. */
export type UrlCheck = (url: string) => Promise<unknown>;

export interface ManageWebhooksDependencies extends AttemptDependencies {
  readonly endpoints: WebhookEndpointStore;
  readonly deliveries: DeliveryStore;
  readonly queue: DeliveryQueue;
  readonly checkUrl: UrlCheck;
  readonly loadRequest: (merchantId: string, id: string) => Promise<HeraldRequest | undefined>;
  readonly limits: {
    readonly maxEndpointsPerMerchant: number;
    readonly previousSecretHours: number;
    readonly recoverMaxDays: number;
  };
}

const MERCHANT_ID_PATTERN = /^mer_[A-Za-z0-9_-]{1,64}$/;

const clock = (deps: { now?: () => Date }) => (deps.now ?? (() => new Date()))();

/**
 * The merchant's webhook API as use cases: each takes the merchant resolved by the authorizer and
 * treats another merchant's endpoint or delivery exactly like a missing one (404).
 */
export const webhookEndpoints = {
  async create(deps: ManageWebhooksDependencies, merchantId: string, body: unknown): Promise<EndpointView> {
    const input = validate(createEndpointSchema, body, 'webhook endpoint');
    await deps.checkUrl(input.url);
    const at = clock(deps).toISOString();
    const signing = newSigningSecret(input.signatureScheme, at);
    const endpoint: WebhookEndpoint = {
      id: `ep_${ulid().toLowerCase()}`,
      merchantId,
      url: input.url,
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.eventTypes ? { eventTypes: [...new Set(input.eventTypes)] } : {}),
      ...(input.filter !== undefined ? { filter: input.filter } : {}),
      ...(input.payloadMode === 'thin' ? { payloadMode: input.payloadMode } : {}),
      ...(input.rateLimitPerSecond !== undefined ? { rateLimitPerSecond: input.rateLimitPerSecond } : {}),
      ...(input.signatureScheme === 'v1a' ? { signatureScheme: 'v1a' as const, publicKey: signing.publicKey! } : {}),
      status: 'enabled',
      secret: signing.secret,
      version: 1,
      createdAt: at,
      updatedAt: at,
    };
    const outcome = await deps.endpoints.create(endpoint, deps.limits.maxEndpointsPerMerchant);
    if (outcome === 'limit-reached') throw new EndpointLimitReachedError(deps.limits.maxEndpointsPerMerchant);
    return presentEndpoint(endpoint, { withSecret: true });
  },

  async list(deps: ManageWebhooksDependencies, merchantId: string): Promise<EndpointView[]> {
    return (await deps.endpoints.list(merchantId)).map((endpoint) => presentEndpoint(endpoint));
  },

  async get(deps: ManageWebhooksDependencies, merchantId: string, id: string): Promise<EndpointView> {
    return presentEndpoint(await owned(deps, merchantId, id));
  },

  async update(deps: ManageWebhooksDependencies, merchantId: string, id: string, body: unknown): Promise<EndpointView> {
    const patch = validate(updateEndpointSchema, body, 'webhook endpoint change');
    const current = await owned(deps, merchantId, id);
    if (patch.url !== undefined && patch.url !== current.url) await deps.checkUrl(patch.url);
    const at = clock(deps).toISOString();
    const { description: _d, eventTypes: _e, filter: _x, rateLimitPerSecond: _l, disabledReason: _r, disabledAt: _a, failingSince: _f, ...rest } = current;
    const description = patch.description === undefined ? current.description : (patch.description ?? undefined);
    const eventTypes = patch.eventTypes === undefined ? current.eventTypes : (patch.eventTypes ?? undefined);
    const filter = patch.filter === undefined ? current.filter : (patch.filter ?? undefined);
    const rateLimitPerSecond = patch.rateLimitPerSecond === undefined ? current.rateLimitPerSecond : (patch.rateLimitPerSecond ?? undefined);
    const disabled = patch.disabled ?? current.status === 'disabled';
    const stayDisabled = disabled && current.status === 'disabled';
    const next: WebhookEndpoint = {
      ...rest,
      url: patch.url ?? current.url,
      ...(description !== undefined ? { description } : {}),
      ...(eventTypes ? { eventTypes: [...new Set(eventTypes)] } : {}),
      ...(filter !== undefined ? { filter } : {}),
      ...(rateLimitPerSecond !== undefined ? { rateLimitPerSecond } : {}),
      ...(patch.payloadMode !== undefined ? { payloadMode: patch.payloadMode } : {}),
      status: disabled ? 'disabled' : 'enabled',
      ...(stayDisabled
        ? { disabledReason: current.disabledReason ?? 'disabled by the merchant', disabledAt: current.disabledAt ?? at }
        : disabled
          ? { disabledReason: 'disabled by the merchant', disabledAt: at }
          : {}),
      // Re-enabling starts a fresh failure count; an unchanged endpoint keeps its own.
      ...(current.failingSince && current.status === 'enabled' && !disabled ? { failingSince: current.failingSince } : {}),
      version: current.version + 1,
      updatedAt: at,
    };
    const stored = await deps.endpoints.replace(next, current.version);
    if (!stored) throw new ConflictError(`Endpoint ${id} changed while this change was applied; read it again and retry`);
    return presentEndpoint(stored);
  },

  async remove(deps: ManageWebhooksDependencies, merchantId: string, id: string): Promise<void> {
    assertEndpointId(id);
    if (!(await deps.endpoints.delete(merchantId, id))) throw notFound(id);
  },

  /**
   * The public keys of a merchant's `v1a` endpoints, as a JSON Web Key Set: public by design, so
   * receivers verify without an API key. An unknown merchant has no keys, like one without v1a
   * endpoints, so the answer tells nobody which merchants exist.
   */
  async publicKeys(deps: ManageWebhooksDependencies, merchantId: string): Promise<{ keys: PublishedKey[] }> {
    if (!MERCHANT_ID_PATTERN.test(merchantId)) throw new NotFoundError('No such merchant id');
    const now = clock(deps);
    return { keys: (await deps.endpoints.listCached(merchantId)).flatMap((endpoint) => publishedKeysOf(endpoint, now)) };
  },

  /** A new secret; the previous one keeps signing next to it for `previousSecretHours`. */
  async rotateSecret(deps: ManageWebhooksDependencies, merchantId: string, id: string): Promise<EndpointView> {
    const current = await owned(deps, merchantId, id);
    const now = clock(deps);
    const at = now.toISOString();
    const expiresAt = new Date(now.getTime() + deps.limits.previousSecretHours * 3_600_000).toISOString();
    const signing = newSigningSecret(current.signatureScheme, at);
    const next: WebhookEndpoint = {
      ...current,
      secret: signing.secret,
      previousSecret: { secret: current.secret.secret, createdAt: current.secret.createdAt, expiresAt },
      // A v1a receiver verifies with public keys: the old one stays published while it still signs.
      ...(signing.publicKey ? { publicKey: signing.publicKey, ...(current.publicKey ? { previousPublicKey: { key: current.publicKey, expiresAt } } : {}) } : {}),
      version: current.version + 1,
      updatedAt: at,
    };
    const stored = await deps.endpoints.replace(next, current.version);
    if (!stored) throw new ConflictError(`Endpoint ${id} changed while its secret was rotated; retry`);
    return { ...presentEndpoint(stored, { withSecret: true }), previousSecretExpiresAt: expiresAt } as EndpointView;
  },

  /** Sends a `webhook.test` event now (one attempt, no retries) and reports how it went. */
  async sendTest(deps: ManageWebhooksDependencies, merchantId: string, id: string, traceId?: string) {
    const endpoint = await owned(deps, merchantId, id);
    const at = clock(deps).toISOString();
    const eventId = `evt_${ulid().toLowerCase()}`;
    const delivery: NewDelivery = {
      id: deliveryIdOf(eventId, endpoint.id, TEST_EVENT_TYPE),
      merchantId,
      endpointId: endpoint.id,
      subjectId: eventId,
      eventType: TEST_EVENT_TYPE,
      eventTimestamp: at,
      ...(traceId ? { traceId } : {}),
      createdAt: at,
    };
    // Like any delivery, recorded by its outcome: one write, after the attempt.
    const { attempt, result } = await attemptDelivery(deps, endpoint, delivery, testEventBody(endpoint.id, eventId, at), 1);
    const succeeded = isSuccess(result);
    const finishedAt = clock(deps).toISOString();
    await deps.deliveries.recordFirst(
      delivery,
      {
        attempts: [attempt],
        state: succeeded ? 'succeeded' : 'dead',
        ...(succeeded ? {} : { reason: 'the test attempt failed; test events are not retried' }),
      },
      finishedAt,
    );
    return { deliveryId: delivery.id, eventId, succeeded, attempt };
  },

  async deliveriesOfEndpoint(deps: ManageWebhooksDependencies, merchantId: string, id: string, limit: number) {
    await owned(deps, merchantId, id);
    const deliveries = await deps.deliveries.listForEndpoint(id, { limit });
    return deliveries.filter((delivery) => delivery.merchantId === merchantId).map(presentDelivery);
  },

  async deliveriesOfRequest(deps: ManageWebhooksDependencies, merchantId: string, requestId: string) {
    assertRequestId(requestId);
    const request = await deps.loadRequest(merchantId, requestId);
    if (!request) throw new NotFoundError(`No request ${requestId} exists for this merchant`);
    const deliveries = await deps.deliveries.listForSubject(requestId);
    return deliveries.filter((delivery) => delivery.merchantId === merchantId).map(presentDelivery);
  },

  /** Sends a delivery again now, whatever its state, as a new round with the full schedule ahead. */
  async retryDelivery(deps: ManageWebhooksDependencies, merchantId: string, deliveryId: string) {
    assertDeliveryId(deliveryId);
    const existing = await deps.deliveries.get(deliveryId);
    if (!existing || existing.merchantId !== merchantId) throw new NotFoundError(`No delivery ${deliveryId} exists for this merchant`);
    const resent = await deps.deliveries.resend(deliveryId, clock(deps).toISOString());
    if (!resent) {
      if (existing.round >= MAX_DELIVERY_ROUNDS) throw new ConflictError(`Delivery ${deliveryId} has had its ${MAX_DELIVERY_ROUNDS} rounds and is not sent again`);
      throw new NotFoundError(`No delivery ${deliveryId} exists for this merchant`);
    }
    await deps.queue.send([deliveryMessageOf(resent)]);
    return presentDelivery(resent);
  },

  /**
   * Sends again every delivery of the endpoint that failed (dead or dropped) since a time, paging
   * through the whole window up to `RECOVER_MAX_SCANNED` deliveries, and says how many it resent
   * and whether it stopped before the window's end.
   */
  async recover(deps: ManageWebhooksDependencies, merchantId: string, id: string, body: unknown) {
    const { since } = validate(recoverSchema, body, 'recover request');
    await owned(deps, merchantId, id);
    const now = clock(deps);
    const sinceMs = Date.parse(since);
    const oldest = now.getTime() - deps.limits.recoverMaxDays * 86_400_000;
    if (sinceMs < oldest || sinceMs > now.getTime()) {
      throw new ValidationError(`since must lie within the last ${deps.limits.recoverMaxDays} days`, [
        { path: '/since', message: `must be between ${new Date(oldest).toISOString()} and now` },
      ]);
    }
    const at = now.toISOString();
    const resent: Delivery[] = [];
    let scanned = 0;
    let after: string | undefined;
    // Page through the whole window, oldest first, up to a stated bound; what is past it is reported, not skipped silently.
    do {
      const page = await deps.deliveries.pageForEndpoint(id, { since: new Date(sinceMs).toISOString(), limit: RECOVER_PAGE_SIZE, ...(after ? { after } : {}) });
      scanned += page.deliveries.length;
      const sent: Delivery[] = [];
      for (const delivery of page.deliveries) {
        if (delivery.merchantId !== merchantId || (delivery.state !== 'dead' && delivery.state !== 'dropped')) continue;
        const next = await deps.deliveries.resend(delivery.id, at);
        if (next) sent.push(next);
      }
      if (sent.length > 0) await deps.queue.send(sent.map((delivery) => deliveryMessageOf(delivery)));
      resent.push(...sent);
      after = page.next;
    } while (after !== undefined && scanned < RECOVER_MAX_SCANNED);
    return {
      since: new Date(sinceMs).toISOString(),
      recovered: resent.length,
      deliveryIds: resent.map((d) => d.id),
      scanned,
      // The window holds more than one recover reads: calling again resends the rest (the resent ones are pending now).
      stoppedEarly: after !== undefined,
    };
  },
};

/** Deliveries one recover reads per page, and in all: a window past that is reported as stopped early. */
export const RECOVER_PAGE_SIZE = 100;
export const RECOVER_MAX_SCANNED = 5_000;

async function owned(deps: ManageWebhooksDependencies, merchantId: string, id: string): Promise<WebhookEndpoint> {
  assertEndpointId(id);
  const endpoint = await deps.endpoints.get(merchantId, id);
  if (!endpoint) throw notFound(id);
  return endpoint;
}

const notFound = (id: string) => new NotFoundError(`No webhook endpoint ${id} exists for this merchant`);
