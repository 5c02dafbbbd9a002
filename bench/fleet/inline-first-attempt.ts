import { deliverWebhook, type DeliverDependencies } from '../../lambdas/core/webhooks/deliver-webhook';
import type { DeliveryMessage } from '../../lambdas/core/webhooks/delivery-message';
import type { DeliveryQueue } from '../../lambdas/core/webhooks/ports';

/** SQS delays a message by at most 15 minutes. */
const MAX_DELAY_SECONDS = 900;

/**
 * A model of the lever weighed in docs/performance.md ("The first webhook attempt made by the
 * process worker"), for `npm run sim:fleet -- --inline-first-attempt-ms N`: the fan-out's round-1
 * messages are attempted by the process worker itself, with `budgetMs` as the first attempt's
 * timeout and the process instance's own circuits, and only what did not get through goes on the
 * deliveries queue. A failed or timed-out attempt is rescheduled the way a deliver worker's is,
 * on a new message that carries the attempt made (`attemptsBefore: 1`), so none is lost.
 * Messages with an ordering ticket, a delay or a later round go to the queue as they are.
 * The fleet has no rate-limited endpoint; the real worker would hand those to the queue too,
 * since the limiter may wait in place for seconds.
 */
export interface InlineAttemptModel {
  readonly budgetMs: number;
  /** The AWS calls around an attempt (read the record, write its outcome), as the deliver worker's model spends them. */
  readonly callsMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Told of each inline attempt's time in the process worker. */
  readonly onAttempt: (ms: number, message: DeliveryMessage) => void;
}

export function inlineFirstAttempt(deliver: DeliverDependencies, queue: DeliveryQueue, model: InlineAttemptModel): DeliveryQueue {
  const { budgetMs, callsMs, sleep, onAttempt } = model;
  const attemptOne = async (message: DeliveryMessage) => {
    const now = deliver.now ?? (() => new Date());
    const startedAt = now().getTime();
    const inPlace: DeliveryQueue = {
      send: (messages, options) => queue.send(messages, options),
      // The inline attempt has no message of its own to hide: its next attempt goes on a new one.
      delayRedelivery: (_receiptHandle, seconds) =>
        queue.send([{ ...message, attemptsBefore: 1 }], { delaySeconds: Math.min(Math.max(seconds, 0), MAX_DELAY_SECONDS) }),
    };
    await sleep(callsMs);
    await deliverWebhook({ ...deliver, queue: inPlace, firstAttemptTimeoutMs: budgetMs }, { message, receiveCount: 1, receiptHandle: `inline:${message.deliveryId}` });
    onAttempt(now().getTime() - startedAt, message);
  };
  return {
    async send(messages, options) {
      if (options?.delaySeconds !== undefined) return queue.send(messages, options);
      const queued = messages.filter((m) => m.round !== 1 || m.ordering !== undefined || m.attemptsBefore !== undefined || m.notBefore !== undefined);
      if (queued.length > 0) await queue.send(queued, options);
      await Promise.all(messages.filter((m) => !queued.includes(m)).map(attemptOne));
    },
    delayRedelivery: (receiptHandle, seconds) => queue.delayRedelivery(receiptHandle, seconds),
  };
}
