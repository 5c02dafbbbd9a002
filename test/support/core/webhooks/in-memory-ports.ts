import { EndpointHealthMonitor, type EndpointHealthDependencies } from '../../../../lambdas/core/webhooks/endpoint-health';
import type { PostResult, WebhookTransport } from '../../../../lambdas/core/webhooks/webhook-attempt';
import type { EndpointDisabledNotice, MerchantNotifier } from '../../../../lambdas/core/merchants/ports';
import type { CreateEndpointOutcome, DeliveryQueue, DeliveryStore, WebhookEndpointStore } from '../../../../lambdas/core/webhooks/ports';
import { type Delivery } from '../../../../lambdas/core/webhooks/delivery';
import { applyDeliveryChanges, type DeliveryTransition } from '../../../../lambdas/core/webhooks/delivery-lifecycle';
import { TEST_EVENT_TYPE, type WebhookEndpoint } from '../../../../lambdas/core/webhooks/endpoint';
import { type DeliveryMessage } from '../../../../lambdas/core/webhooks/delivery-message';
import { copy } from '../requests/in-memory-ports';

/**
 * Webhook endpoints in memory, holding the conditions the table holds: the per-merchant limit is
 * checked with the write, a replace wins only on the version it read, disabling happens once,
 * and a failure run keeps its first start. Cached reads are plain reads here (no staleness).
 */
export class InMemoryWebhookEndpointStore implements WebhookEndpointStore {
  private readonly endpoints = new Map<string, WebhookEndpoint>();

  async create(endpoint: WebhookEndpoint, maxPerMerchant: number): Promise<CreateEndpointOutcome> {
    if (this.ofMerchant(endpoint.merchantId).length >= maxPerMerchant) return 'limit-reached';
    const key = keyOf(endpoint.merchantId, endpoint.id);
    if (this.endpoints.has(key)) throw new Error(`Endpoint ${endpoint.id} is already stored`);
    this.endpoints.set(key, copy(endpoint));
    return 'created';
  }

  async get(merchantId: string, id: string): Promise<WebhookEndpoint | undefined> {
    const stored = this.endpoints.get(keyOf(merchantId, id));
    return stored && copy(stored);
  }

  async list(merchantId: string): Promise<WebhookEndpoint[]> {
    return this.ofMerchant(merchantId)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      .map(copy);
  }

  getCached(merchantId: string, id: string): Promise<WebhookEndpoint | undefined> {
    return this.get(merchantId, id);
  }

  listCached(merchantId: string): Promise<WebhookEndpoint[]> {
    return this.list(merchantId);
  }

  async replace(endpoint: WebhookEndpoint, expectedVersion: number): Promise<WebhookEndpoint | undefined> {
    const key = keyOf(endpoint.merchantId, endpoint.id);
    if (this.endpoints.get(key)?.version !== expectedVersion) return undefined;
    this.endpoints.set(key, copy(endpoint));
    return copy(endpoint);
  }

  async delete(merchantId: string, id: string): Promise<boolean> {
    return this.endpoints.delete(keyOf(merchantId, id));
  }

  async disable(merchantId: string, id: string, reason: string, at: string): Promise<WebhookEndpoint | undefined> {
    const stored = this.endpoints.get(keyOf(merchantId, id));
    if (stored?.status !== 'enabled') return undefined;
    return this.put({ ...stored, status: 'disabled', disabledReason: reason, disabledAt: at, updatedAt: at, version: stored.version + 1 });
  }

  async markFailing(merchantId: string, id: string, at: string): Promise<WebhookEndpoint | undefined> {
    const stored = this.endpoints.get(keyOf(merchantId, id));
    if (!stored) return undefined;
    return this.put({ ...stored, failingSince: stored.failingSince ?? at });
  }

  async markSucceeded(merchantId: string, id: string, at: string): Promise<void> {
    const stored = this.endpoints.get(keyOf(merchantId, id));
    if (!stored) return;
    const { failingSince: _ended, ...rest } = stored;
    this.put({ ...rest, lastSuccessAt: at });
  }

  /** Puts an endpoint in a given state, as a test's arrange step; nothing is checked. */
  seed(endpoint: WebhookEndpoint): void {
    this.endpoints.set(keyOf(endpoint.merchantId, endpoint.id), copy(endpoint));
  }

  private put(endpoint: WebhookEndpoint): WebhookEndpoint {
    this.endpoints.set(keyOf(endpoint.merchantId, endpoint.id), copy(endpoint));
    return copy(endpoint);
  }

  private ofMerchant(merchantId: string): WebhookEndpoint[] {
    return [...this.endpoints.values()].filter((endpoint) => endpoint.merchantId === merchantId);
  }
}

/**
 * Deliveries in memory. A decided transition is applied only while the record is as its
 * condition says (absent for a first outcome; the round, state and due time it was decided on). Listings follow the table's keys: a request's deliveries leave
 * out test events (they live under their own event id), an endpoint's come newest first.
 */
export class InMemoryDeliveryStore implements DeliveryStore {
  private readonly deliveries = new Map<string, Delivery>();

  async apply(transition: DeliveryTransition): Promise<Delivery | undefined> {
    const stored = this.deliveries.get(transition.id);
    const { expected } = transition;
    if (expected.absent) {
      if (stored) return undefined;
      this.deliveries.set(transition.id, copy(transition.next));
      return copy(transition.next);
    }
    if (!stored || stored.round !== expected.round || (expected.state !== undefined && stored.state !== expected.state)) return undefined;
    if (expected.nextAttemptAt !== undefined && stored.nextAttemptAt !== (expected.nextAttemptAt ?? undefined)) return undefined;
    // What the table's update leaves: the stored record with the transition's changes, not the record the decision read.
    const next = applyDeliveryChanges(stored, transition.rule.to, transition.changes, transition.at);
    this.deliveries.set(transition.id, copy(next));
    return copy(next);
  }

  async get(id: string): Promise<Delivery | undefined> {
    const stored = this.deliveries.get(id);
    return stored && copy(stored);
  }

  async listForSubject(subjectId: string): Promise<Delivery[]> {
    return this.all().filter((delivery) => delivery.subjectId === subjectId && delivery.eventType !== TEST_EVENT_TYPE);
  }

  async listForEndpoint(endpointId: string, query: { readonly since?: string; readonly limit: number }): Promise<Delivery[]> {
    const position = (delivery: Delivery) => `${delivery.createdAt}#${delivery.id}`;
    return [...this.deliveries.values()]
      .filter((delivery) => delivery.endpointId === endpointId && (query.since === undefined || position(delivery) >= query.since))
      .sort((a, b) => position(b).localeCompare(position(a)))
      .slice(0, query.limit)
      .map(copy);
  }

  async pageForEndpoint(endpointId: string, query: { readonly since: string; readonly limit: number; readonly after?: string }) {
    const position = (delivery: Delivery) => `${delivery.createdAt}#${delivery.id}`;
    const window = this.all()
      .filter((delivery) => delivery.endpointId === endpointId && position(delivery) >= query.since && (query.after === undefined || position(delivery) > query.after))
      .sort((a, b) => position(a).localeCompare(position(b)));
    const deliveries = window.slice(0, query.limit);
    // As DynamoDB does, a full page says there may be more even when there is not.
    return { deliveries, ...(deliveries.length === query.limit ? { next: position(deliveries.at(-1)!) } : {}) };
  }

  async findOverdue(before: string, limit: number): Promise<Delivery[]> {
    const due = (delivery: Delivery) => `${delivery.nextAttemptAt ?? delivery.createdAt}#${delivery.id}`;
    // Selected before copying, so that a store holding a fleet's deliveries sweeps in linear time without cloning them all.
    return [...this.deliveries.values()]
      .filter((delivery) => delivery.state === 'pending' && due(delivery) < before)
      .sort((a, b) => due(a).localeCompare(due(b)))
      .slice(0, limit)
      .map(copy);
  }

  /** Puts a delivery in a given state, as a test's arrange step; nothing is checked. */
  seed(delivery: Delivery): void {
    this.deliveries.set(delivery.id, copy(delivery));
  }

  all(): Delivery[] {
    return [...this.deliveries.values()].map(copy);
  }
}

/** The deliveries queue: what was sent, and the waits asked of received messages. */
export class InMemoryDeliveryQueue implements DeliveryQueue {
  readonly sent: DeliveryMessage[] = [];
  /** The delay each sent message was sent with (undefined: none), in the order of `sent`. */
  readonly sentDelays: (number | undefined)[] = [];
  readonly delays: { readonly receiptHandle: string; readonly seconds: number }[] = [];

  async send(messages: readonly DeliveryMessage[], options: { readonly delaySeconds?: number } = {}): Promise<void> {
    this.sent.push(...messages.map(copy));
    this.sentDelays.push(...messages.map(() => options.delaySeconds));
  }

  async delayRedelivery(receiptHandle: string, seconds: number): Promise<void> {
    this.delays.push({ receiptHandle, seconds });
  }
}

/** Records the endpoint-disabled notices a merchant would be sent. */
export class RecordingMerchantNotifier implements MerchantNotifier {
  readonly notices: EndpointDisabledNotice[] = [];

  async endpointDisabled(notice: EndpointDisabledNotice): Promise<void> {
    this.notices.push(copy(notice));
  }
}

/** A receiver that answers each POST with the next scripted result (the last one repeats), and keeps what it got. */
export class ScriptedWebhookTransport implements WebhookTransport {
  readonly posts: { readonly url: string; readonly headers: Record<string, string>; readonly body: string }[] = [];
  private readonly results: PostResult[];

  constructor(...results: PostResult[]) {
    this.results = results.length > 0 ? results : [{ status: 204, latencyMs: 1 }];
  }

  async post(url: string, headers: Record<string, string>, body: string): Promise<PostResult> {
    this.posts.push({ url, headers: { ...headers }, body });
    return (this.results.length > 1 ? this.results.shift() : this.results[0])!;
  }
}

const keyOf = (merchantId: string, id: string) => `${merchantId}\u0000${id}`;

/**
 * The endpoint health the deliver use case reports to, over the test's stores and notifier:
 * the same rules as the deliver function, with the limits a test chooses.
 */
export function endpointHealthOver(deps: {
  readonly endpoints: EndpointHealthDependencies['endpoints'];
  readonly deliveries: EndpointHealthDependencies['deliveries'];
  readonly notifier?: MerchantNotifier;
  readonly deadStreakLimit: number;
  readonly failingDaysLimit: number;
}): EndpointHealthMonitor {
  return new EndpointHealthMonitor({
    endpoints: deps.endpoints,
    deliveries: deps.deliveries,
    operations: deps.notifier ?? new RecordingMerchantNotifier(),
    deadStreakLimit: deps.deadStreakLimit,
    failingDaysLimit: deps.failingDaysLimit,
    log: () => undefined,
  });
}
