import { type Delivery } from './delivery';
import { TEST_EVENT_TYPE } from './endpoint';

/** A delivery as the API shows it. */
export function presentDelivery(delivery: Delivery) {
  return {
    id: delivery.id,
    endpointId: delivery.endpointId,
    ...(delivery.eventType === TEST_EVENT_TYPE ? {} : { requestId: delivery.subjectId }),
    eventType: delivery.eventType,
    state: delivery.state,
    attempts: delivery.attempts,
    ...(delivery.nextAttemptAt && delivery.state === 'pending' ? { nextAttemptAt: delivery.nextAttemptAt } : {}),
    ...(delivery.reason ? { reason: delivery.reason } : {}),
    createdAt: delivery.createdAt,
    updatedAt: delivery.updatedAt,
  };
}

/** Counts of a request's deliveries, for the status view: failed counts dead and dropped ones. */
export function summarizeDeliveries(deliveries: readonly Delivery[]): { total: number; pending: number; delivered: number; failed: number } {
  const counts = { total: deliveries.length, pending: 0, delivered: 0, failed: 0 };
  for (const delivery of deliveries) {
    if (delivery.state === 'pending') counts.pending++;
    else if (delivery.state === 'succeeded') counts.delivered++;
    else counts.failed++;
  }
  return counts;
}

/** An ETag that also changes when the request's deliveries progress (they do not bump its version). */
export function withDeliveriesTag(etag: string, summary: { total: number; pending: number; delivered: number; failed: number }): string {
  if (summary.total === 0) return etag;
  return `${etag.slice(0, -1)}.d${summary.pending}-${summary.delivered}-${summary.failed}"`;
}
