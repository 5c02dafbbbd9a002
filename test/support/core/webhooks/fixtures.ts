import type { DeliverDependencies } from '../../../../lambdas/core/webhooks/deliver-webhook';
import type { Delivery } from '../../../../lambdas/core/webhooks/delivery';
import type { DeliveryMessage } from '../../../../lambdas/core/webhooks/delivery-message';
import { generateSigningSecret, type WebhookEndpoint } from '../../../../lambdas/core/webhooks/endpoint';
import type { WebhookTransport } from '../../../../lambdas/core/webhooks/webhook-attempt';
import type { MerchantNotifier } from '../../../../lambdas/core/merchants/ports';
import { webhookRetrySchedule } from '../../../../lambdas/settings/retry';
import { InMemoryRedriveLog } from '../requests/in-memory-ports';
import { InMemoryDeliveryQueue, endpointHealthOver, type InMemoryDeliveryStore, type InMemoryWebhookEndpointStore } from './in-memory-ports';

/**
 * The messages, endpoints and worker dependencies the webhook use-case tests share: one enabled
 * endpoint `ep_1` on a public https URL, the round-1 message of `req_1`'s success for it, and the
 * deliver worker over in-memory ports with the real retry schedule and a fixed jitter.
 */

const CREATED_AT = '2026-01-01T00:00:00Z';

/** An enabled endpoint `ep_1` of `mer_1` with a fresh signing secret; `extra` changes any field. */
export function webhookEndpoint(extra: Partial<WebhookEndpoint> = {}): WebhookEndpoint {
  return {
    id: 'ep_1',
    merchantId: 'mer_1',
    url: 'https://hooks.example.com/x',
    status: 'enabled',
    secret: { secret: generateSigningSecret(), createdAt: CREATED_AT },
    version: 1,
    createdAt: CREATED_AT,
    updatedAt: CREATED_AT,
    ...extra,
  };
}

/** The round-1 message of `req_1`'s `request.succeeded` for `ep_1` of `mer_1`. */
export function deliveryMessage(extra: Partial<DeliveryMessage> = {}): DeliveryMessage {
  return {
    deliveryId: 'dlv_req_1.ep_1.succeeded',
    merchantId: 'mer_1',
    endpointId: 'ep_1',
    subjectId: 'req_1',
    eventType: 'request.succeeded',
    eventTimestamp: '2026-03-10T11:59:59Z',
    round: 1,
    payload: '{"type":"request.succeeded"}',
    ...extra,
  };
}

/** The record of `message`'s delivery, pending in round 1 with no attempt yet, as its first send leaves it. */
export function pendingDelivery(message: DeliveryMessage, extra: Partial<Delivery> = {}): Delivery {
  return {
    id: message.deliveryId,
    merchantId: message.merchantId,
    endpointId: message.endpointId,
    subjectId: message.subjectId,
    eventType: message.eventType,
    eventTimestamp: message.eventTimestamp,
    state: 'pending',
    round: 1,
    attempts: [],
    createdAt: message.eventTimestamp,
    updatedAt: message.eventTimestamp,
    ...extra,
  };
}

/** What the deliver worker is built over in a test; the rest of its dependencies have fixed values. */
export interface DeliverFixtureParts {
  readonly endpoints: InMemoryWebhookEndpointStore;
  readonly deliveries: InMemoryDeliveryStore;
  readonly transport: WebhookTransport;
  /** Where the endpoint-disabled notice goes; a recorder nobody reads without one. */
  readonly notifier?: MerchantNotifier;
  /** Dead deliveries in a row that disable an endpoint (5 unless given). */
  readonly deadStreakLimit?: number;
}

/**
 * The deliver worker's dependencies: 8 attempts on the real schedule at scale 1, jitter fixed at
 * the middle, no request to load; `overrides` replaces any of them.
 */
export function deliverDependencies(parts: DeliverFixtureParts, overrides: Partial<DeliverDependencies> = {}): DeliverDependencies {
  const { endpoints, deliveries, transport, notifier } = parts;
  return {
    endpoints,
    deliveries,
    queue: new InMemoryDeliveryQueue(),
    health: endpointHealthOver({ endpoints, deliveries, ...(notifier ? { notifier } : {}), deadStreakLimit: parts.deadStreakLimit ?? 5, failingDaysLimit: 5 }),
    transport,
    loadRequest: async () => undefined,
    userAgent: 'test',
    schedule: webhookRetrySchedule,
    maxAttempts: 8,
    retryScale: 1,
    log: () => undefined,
    random: () => 0.5,
    redrives: new InMemoryRedriveLog(),
    queueName: 'deliveries',
    ...overrides,
  };
}
