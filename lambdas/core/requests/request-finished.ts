import type { RequestEventPublisher } from './ports';
import type { HeraldRequest } from './request';

/**
 * Everyone told when a request ends (webhook deliveries, SMS and email), as one publisher. Each
 * publisher is idempotent per (request, event), and one failing never keeps the others from
 * running; the first failure is rethrown afterwards, so the worker's message is retried and the
 * publishers that already ran do nothing the second time.
 *
 * @example
 * const events = everyPublisher([webhookFanOut, notifications]);
 * await events.requestFinished(request);
 */
export function everyPublisher(publishers: readonly RequestEventPublisher[]): RequestEventPublisher {
  return {
    async requestFinished(request: HeraldRequest) {
      const results = await Promise.allSettled(publishers.map((publisher) => publisher.requestFinished(request)));
      const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failure) throw failure.reason;
    },
  };
}
