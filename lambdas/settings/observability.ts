/** Names under which Herald reports itself: the service for logs and traces, and its metrics. */

export const SERVICE_NAME = 'herald';
export const METRICS_NAMESPACE = 'Herald';

/**
 * Herald's own metrics (Counts, as Powertools EMF in METRICS_NAMESPACE with the dimension
 * `service`): the handlers count them and the dashboard graphs them by these names.
 */
export const METRICS = {
  /** A new request stored (a replayed Idempotency-Key is not counted again). */
  requestsAccepted: 'RequestsAccepted',
  requestsSucceeded: 'RequestsSucceeded',
  /** A request finished failed: a permanent error, or its attempts ran out. */
  requestsFailed: 'RequestsFailed',
  /** A processor run by the worker (a claim lost to another worker is not an attempt). */
  processingAttempts: 'ProcessingAttempts',
  deliveriesSucceeded: 'DeliveriesSucceeded',
  /** One webhook attempt that failed, whether or not another follows. */
  deliveriesFailed: 'DeliveriesFailed',
  /** A delivery given up: its attempts ran out, or the endpoint answered 410. */
  deliveriesDead: 'DeliveriesDead',
} as const;
