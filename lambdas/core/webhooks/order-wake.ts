import { randomUUID } from 'node:crypto';
import { ORDER_WAITING, PREDECESSOR_PENDING, type DeliveryOrderLedger } from './delivery-order';
import type { DeliveryQueue, DeliveryStore } from './ports';
import type { Delivery } from './delivery';
import type { DeliveryMessage } from './delivery-message';

/**
 * Sends a message to each delivery of the key whose turn it now is and that is waiting for it:
 * called when a delivery ends and when a request hands its number over. A delivery not waiting
 * (not yet received, or already going) needs no wake; a wake that loses its claim to the
 * delivery's own message is dropped.
 */
export async function wakeReady(
  deps: { readonly order: DeliveryOrderLedger; readonly deliveries: DeliveryStore; readonly queue: DeliveryQueue },
  merchantId: string,
  key: string,
): Promise<void> {
  const heads = await deps.order.heads(merchantId, key);
  const waiting = (await Promise.all(heads.map((head) => deps.deliveries.get(head.deliveryId)))).filter(
    (delivery): delivery is Delivery => delivery?.state === 'pending' && delivery.orderWait === ORDER_WAITING,
  );
  if (waiting.length === 0) return;
  await deps.queue.send(
    waiting.map((delivery): DeliveryMessage => {
      const wait = delivery.attempts.findLast((attempt) => attempt.error === PREDECESSOR_PENDING);
      return {
        deliveryId: delivery.id,
        merchantId: delivery.merchantId,
        endpointId: delivery.endpointId,
        subjectId: delivery.subjectId,
        eventType: delivery.eventType,
        eventTimestamp: delivery.eventTimestamp,
        round: delivery.round,
        ...(delivery.traceId ? { traceId: delivery.traceId } : {}),
        ...(delivery.ordering ? { ordering: delivery.ordering } : {}),
        attemptsBefore: Math.max((wait?.attempt ?? 1) - 1, 0),
        ...(wait ? { orderWaitSince: wait.at } : {}),
        orderToken: randomUUID(),
      };
    }),
  );
}
