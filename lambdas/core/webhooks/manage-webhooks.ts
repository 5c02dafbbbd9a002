import { ulid } from 'ulid';
import { type AttemptDependencies } from './webhook-attempt';
import { ConflictError, HeraldError, NotFoundError } from '../shared/errors';
import { assertEndpointId } from '../requests/ids';
import type { HeraldRequest } from '../requests/request';
import { validate } from '../requests/submission';
import type { DeliveryQueue, DeliveryStore, WebhookEndpointStore } from './ports';
import type { PublishedKey } from './webhook-signatures';
import { createEndpointSchema, updateEndpointSchema } from './endpoint-schemas';
import { newSigningSecret, presentEndpoint, publishedKeysOf, type EndpointView, type WebhookEndpoint } from './endpoint';
import { deliveryOperations, endpointNotFound, ownedEndpoint } from './manage-deliveries';

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
    return presentEndpoint(await ownedEndpoint(deps, merchantId, id));
  },

  async update(deps: ManageWebhooksDependencies, merchantId: string, id: string, body: unknown): Promise<EndpointView> {
    const patch = validate(updateEndpointSchema, body, 'webhook endpoint change');
    const current = await ownedEndpoint(deps, merchantId, id);
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
    if (!(await deps.endpoints.delete(merchantId, id))) throw endpointNotFound(id);
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
    const current = await ownedEndpoint(deps, merchantId, id);
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

  ...deliveryOperations,
};

export { RECOVER_MAX_SCANNED, RECOVER_PAGE_SIZE } from './manage-deliveries';
