import { callbackMessageOf, callbackTakes } from './callbacks';
import type { RequestEventPublisher } from '../requests/ports';
import type { HeraldRequest } from '../requests/request';
import type { DeliveryQueue, DeliveryStore, WebhookEndpointStore } from './ports';
import { deliveryIdOf, type Delivery } from './delivery';
import { eventTypeOf, eventBodyFor, requestEvent, type RequestUrlOf } from './request-event';
import { MAX_INLINE_PAYLOAD_BYTES, type DeliveryMessage } from './delivery-message';
import { takesEvent } from './endpoint';
import { ticketOf, type DeliveryOrderLedger } from './delivery-order';
import { wakeReady } from './order-wake';

export interface WebhookFanOutDependencies {
  readonly endpoints: WebhookEndpointStore;
  readonly queue: DeliveryQueue;
  /** Where thin events tell receivers to fetch the request. */
  readonly requestUrlOf?: RequestUrlOf;
  /** The ordering keys' ledger: a request submitted with an `orderingKey` hands its number over to its endpoints. */
  readonly order?: DeliveryOrderLedger;
  /** Read to wake the deliveries of an ordering key whose turn came (`wakeReady`). */
  readonly deliveries?: DeliveryStore;
}

/**
 * The webhook publisher of the fan-out: one message per enabled endpoint of the merchant whose
 * filter takes the event, in SendMessageBatch calls, and no write: a delivery's record is created
 * by its first attempt's outcome (`deliverWebhook`), so until then the queue alone holds it.
 *
 * Hence a failed send must fail the fan-out (the queue throws), so that the worker's message comes
 * back and the fan-out runs again: no sweeper can find a delivery that has no record. Repeating
 * it is safe: the delivery id is derived from (request, endpoint, event), so a repeated fan-out
 * sends messages naming the same deliveries, and the deliver worker, which reads the record before
 * posting, drops a copy whose delivery already succeeded, was attempted in round 1, or moved on; a
 * copy that finds no record yet posts under the same `webhook-id`, which receivers dedupe on. The
 * event timestamp is the request's finishing time, so every repetition builds the same body.
 */
export class WebhookFanOut implements RequestEventPublisher {
  constructor(private readonly deps: WebhookFanOutDependencies) {}

  async requestFinished(request: HeraldRequest): Promise<void> {
    const ticket = ticketOf(request);
    const type = eventTypeOf(request);
    if (!type) {
      // An ordered request that announces nothing must still stop holding its key.
      if (ticket) await this.deps.order?.handOver(request.merchantId, ticket, []);
      return this.wakeBehind(request);
    }
    const timestamp = request.updatedAt;
    const event = requestEvent(request, type, timestamp);
    // A filtered-out event costs nothing further: no message, so no delivery record either.
    const endpoints =
      request.webhookEvents === false
        ? []
        : (await this.deps.endpoints.listCached(request.merchantId)).filter((endpoint) => endpoint.status === 'enabled' && takesEvent(endpoint, event));
    // The client asked for its callback on this very request: `webhookEvents: false` silences the endpoints only.
    // The callback is outside the key's order: it serves this one request, so nothing queues behind it.
    const withCallback = callbackTakes(request, type);
    // Before any message: a delivery that ran ahead of this would find nothing holding its successors.
    const targets = endpoints.map((endpoint) => ({ endpointId: endpoint.id, deliveryId: deliveryIdOf(request.id, endpoint.id, type) }));
    if (ticket) await this.deps.order?.handOver(request.merchantId, ticket, targets);
    if (endpoints.length === 0 && !withCallback) return this.wakeBehind(request);

    const full = JSON.stringify(event);
    const callback = withCallback ? [callbackMessageOf(request, type, timestamp, Buffer.byteLength(full) <= MAX_INLINE_PAYLOAD_BYTES ? full : undefined)] : [];

    await this.deps.queue.send([
      ...callback,
      ...endpoints.map((endpoint) => {
        const payload = eventBodyFor(endpoint, event, this.deps.requestUrlOf, full);
        const inline = Buffer.byteLength(payload) <= MAX_INLINE_PAYLOAD_BYTES;
        return {
        deliveryId: deliveryIdOf(request.id, endpoint.id, type),
        merchantId: request.merchantId,
        endpointId: endpoint.id,
        subjectId: request.id,
        eventType: type,
        eventTimestamp: timestamp,
        round: 1,
        ...(inline ? { payload } : {}),
        ...(request.traceId ? { traceId: request.traceId } : {}),
        ...(ticket ? { ordering: ticket } : {}),
        };
      }),
    ]);
    await this.wakeBehind(request);
  }

  /**
   * An ordered request no longer open may be all that held deliveries of its key to other
   * endpoints (those its event does not go to): they are woken now rather than at their re-check.
   */
  private async wakeBehind(request: HeraldRequest): Promise<void> {
    const ticket = ticketOf(request);
    const { order, deliveries } = this.deps;
    if (ticket && order && deliveries) await wakeReady({ order, deliveries, queue: this.deps.queue }, request.merchantId, ticket.key);
  }
}

/** The queue message for a delivery's current round; without a payload the worker rebuilds the body. */
export function deliveryMessageOf(delivery: Delivery, payload?: string): DeliveryMessage {
  return {
    deliveryId: delivery.id,
    merchantId: delivery.merchantId,
    endpointId: delivery.endpointId,
    subjectId: delivery.subjectId,
    eventType: delivery.eventType,
    eventTimestamp: delivery.eventTimestamp,
    round: delivery.round,
    ...(payload !== undefined ? { payload } : {}),
    ...(delivery.traceId ? { traceId: delivery.traceId } : {}),
    ...(delivery.ordering ? { ordering: delivery.ordering } : {}),
  };
}
