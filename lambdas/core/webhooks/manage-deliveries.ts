import { ulid } from 'ulid';
import { attemptDelivery, isSuccess, type AttemptDependencies } from './webhook-attempt';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import { assertDeliveryId, assertEndpointId, assertRequestId } from '../requests/ids';
import { deliveryMessageOf } from './fan-out-webhooks';
import type { HeraldRequest } from '../requests/request';
import { validate } from '../requests/submission';
import type { DeliveryQueue, DeliveryStore, WebhookEndpointStore } from './ports';
import { recoverSchema } from './endpoint-schemas';
import { MAX_DELIVERY_ROUNDS, deliveryIdOf, type Delivery, type NewDelivery } from './delivery';
import { decideDelivery } from './delivery-lifecycle';
import { TEST_EVENT_TYPE, type WebhookEndpoint } from './endpoint';
import { presentDelivery } from './delivery-view';
import { testEventBody } from './request-event';

export interface ManageDeliveriesDependencies extends AttemptDependencies {
  readonly endpoints: WebhookEndpointStore;
  readonly deliveries: DeliveryStore;
  readonly queue: DeliveryQueue;
  readonly loadRequest: (merchantId: string, id: string) => Promise<HeraldRequest | undefined>;
  readonly limits: { readonly recoverMaxDays: number };
}

const clock = (deps: { now?: () => Date }) => (deps.now ?? (() => new Date()))();

/** Deliveries one recover reads per page, and in all: a window past that is reported as stopped early. */
export const RECOVER_PAGE_SIZE = 100;
export const RECOVER_MAX_SCANNED = 5_000;

/**
 * The merchant's delivery operations (test event, delivery logs, retry, recover), part of the
 * webhook API's use cases (`webhookEndpoints`): another merchant's endpoint or delivery is
 * treated exactly like a missing one (404).
 */
export const deliveryOperations = {
  /** Sends a `webhook.test` event now (one attempt, no retries) and reports how it went. */
  async sendTest(deps: ManageDeliveriesDependencies, merchantId: string, id: string, traceId?: string) {
    const endpoint = await ownedEndpoint(deps, merchantId, id);
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
    const outcome = succeeded
      ? ({ kind: 'deliver', attempts: [attempt] } as const)
      : ({ kind: 'die', attempts: [attempt], reason: 'the test attempt failed; test events are not retried' } as const);
    const decision = decideDelivery(undefined, { ...outcome, round: 1, at: finishedAt, first: delivery });
    if (decision.outcome === 'transition') await deps.deliveries.apply(decision.transition);
    return { deliveryId: delivery.id, eventId, succeeded, attempt };
  },

  async deliveriesOfEndpoint(deps: ManageDeliveriesDependencies, merchantId: string, id: string, limit: number) {
    await ownedEndpoint(deps, merchantId, id);
    const deliveries = await deps.deliveries.listForEndpoint(id, { limit });
    return deliveries.filter((delivery) => delivery.merchantId === merchantId).map(presentDelivery);
  },

  async deliveriesOfRequest(deps: ManageDeliveriesDependencies, merchantId: string, requestId: string) {
    assertRequestId(requestId);
    const request = await deps.loadRequest(merchantId, requestId);
    if (!request) throw new NotFoundError(`No request ${requestId} exists for this merchant`);
    const deliveries = await deps.deliveries.listForSubject(requestId);
    return deliveries.filter((delivery) => delivery.merchantId === merchantId).map(presentDelivery);
  },

  /** Sends a delivery again now, whatever its state, as a new round with the full schedule ahead. */
  async retryDelivery(deps: ManageDeliveriesDependencies, merchantId: string, deliveryId: string) {
    assertDeliveryId(deliveryId);
    const existing = await deps.deliveries.get(deliveryId);
    if (!existing || existing.merchantId !== merchantId) throw new NotFoundError(`No delivery ${deliveryId} exists for this merchant`);
    const decision = decideDelivery(existing, { kind: 'resend', at: clock(deps).toISOString() });
    if (decision.outcome === 'refused') throw new ConflictError(`Delivery ${deliveryId} has had its ${MAX_DELIVERY_ROUNDS} rounds and is not sent again`);
    const resent = await deps.deliveries.apply(decision.transition);
    // Another retry started a round since it was read, or it expired meanwhile.
    if (!resent) throw new NotFoundError(`No delivery ${deliveryId} exists for this merchant`);
    await deps.queue.send([deliveryMessageOf(resent)]);
    return presentDelivery(resent);
  },

  /**
   * Sends again every delivery of the endpoint that failed (dead or dropped) since a time, paging
   * through the whole window up to `RECOVER_MAX_SCANNED` deliveries, and says how many it resent
   * and whether it stopped before the window's end.
   */
  async recover(deps: ManageDeliveriesDependencies, merchantId: string, id: string, body: unknown) {
    const { since } = validate(recoverSchema, body, 'recover request');
    await ownedEndpoint(deps, merchantId, id);
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
        if (delivery.merchantId !== merchantId) continue;
        // Only what failed (dead or dropped) is recovered; the lifecycle refuses the rest.
        const decision = decideDelivery(delivery, { kind: 'recover', at });
        const next = decision.outcome === 'transition' ? await deps.deliveries.apply(decision.transition) : undefined;
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

/** The merchant's endpoint, or a 404 for a missing one and another merchant's alike. */
export async function ownedEndpoint(deps: Pick<ManageDeliveriesDependencies, 'endpoints'>, merchantId: string, id: string): Promise<WebhookEndpoint> {
  assertEndpointId(id);
  const endpoint = await deps.endpoints.get(merchantId, id);
  if (!endpoint) throw endpointNotFound(id);
  return endpoint;
}

export const endpointNotFound = (id: string) => new NotFoundError(`No webhook endpoint ${id} exists for this merchant`);
