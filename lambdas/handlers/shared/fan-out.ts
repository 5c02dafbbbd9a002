import type { RequestEventPublisher } from '../../core/ports';
import type { HeraldRequest } from '../../core/request';
import { requestNotifier } from './notifier';
import { WebhookFanOut } from '../../core/fan-out-webhooks';
import { deliveryQueue, deliveryStore, webhookEndpointStore } from './webhook-dependencies';

/**
 * Everyone told when a request ends. Each publisher is idempotent per (request, event), and one
 * failing never keeps the others from running; the first failure is rethrown afterwards so the
 * message is retried and the publishers that already ran do nothing the second time.
 */
const publishers: (() => RequestEventPublisher)[] = [
  // Webhook deliveries and SNS notifications register here.
  requestNotifier,
  () => new WebhookFanOut({ endpoints: webhookEndpointStore(), deliveries: deliveryStore(), queue: deliveryQueue() }),
];

export function requestEventPublisher(): RequestEventPublisher {
  return {
    async requestFinished(request: HeraldRequest) {
      const results = await Promise.allSettled(publishers.map((publisher) => publisher().requestFinished(request)));
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure) throw failure.reason;
    },
  };
}
