import type { RequestEventPublisher } from './ports';
import type { HeraldRequest } from './request';
import type { DeliveryQueue, DeliveryStore, WebhookEndpointStore } from './webhook-ports';
import {
  deliveryIdOf,
  eventTypeOf,
  MAX_INLINE_PAYLOAD_BYTES,
  requestEventBody,
  subscribes,
  type Delivery,
  type DeliveryMessage,
} from './webhooks';

export interface WebhookFanOutDependencies {
  readonly endpoints: WebhookEndpointStore;
  readonly deliveries: DeliveryStore;
  readonly queue: DeliveryQueue;
  readonly now?: () => Date;
}

/**
 * The webhook publisher of the fan-out: one delivery per enabled endpoint of the merchant whose
 * filter takes the event, stored with a conditional put on its derived id, then one message each
 * in SendMessageBatch calls. Idempotent: a repeated fan-out finds its deliveries stored and sends
 * nothing; if the first one stored them but failed to send, the delivery sweeper sends them once
 * they are overdue. The event timestamp is the request's finishing time, so every repetition
 * builds the same body.
 */
export class WebhookFanOut implements RequestEventPublisher {
  constructor(private readonly deps: WebhookFanOutDependencies) {}

  async requestFinished(request: HeraldRequest): Promise<void> {
    if (request.webhookEvents === false) return;
    const type = eventTypeOf(request);
    if (!type) return;
    const endpoints = (await this.deps.endpoints.listCached(request.merchantId)).filter(
      (endpoint) => endpoint.status === 'enabled' && subscribes(endpoint, type),
    );
    if (endpoints.length === 0) return;

    const at = (this.deps.now ?? (() => new Date()))().toISOString();
    const timestamp = request.updatedAt;
    const payload = requestEventBody(request, type, timestamp);
    const inline = Buffer.byteLength(payload) <= MAX_INLINE_PAYLOAD_BYTES;
    const created = await Promise.all(
      endpoints.map(async (endpoint) => {
        const delivery: Delivery = {
          id: deliveryIdOf(request.id, endpoint.id, type),
          merchantId: request.merchantId,
          endpointId: endpoint.id,
          subjectId: request.id,
          eventType: type,
          eventTimestamp: timestamp,
          state: 'pending',
          round: 1,
          attempts: [],
          nextAttemptAt: at,
          ...(request.traceId ? { traceId: request.traceId } : {}),
          createdAt: at,
          updatedAt: at,
        };
        return (await this.deps.deliveries.createIfAbsent(delivery)) ? delivery : undefined;
      }),
    );
    const messages = created
      .filter((delivery): delivery is Delivery => delivery !== undefined)
      .map((delivery) => deliveryMessageOf(delivery, inline ? payload : undefined));
    if (messages.length > 0) await this.deps.queue.send(messages);
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
  };
}
