import { webhookDefaults } from '../settings/webhooks';
import { sweepPendingDeliveries } from '../core/webhooks/sweep-pending-deliveries';
import { deliveryQueue, deliveryStore } from './shared/dependencies';
import { scheduledJob } from './shared/middlewares';
import { logger } from './shared/observability';

/**
 * Scheduled: re-enqueues webhook deliveries left pending past their next attempt (a lost or
 * never-sent message). Separate from the request sweeper so that each can fail and be retried alone.
 */
export const handler = scheduledJob(async () => {
  const report = await sweepPendingDeliveries(
    { deliveries: deliveryStore(), queue: deliveryQueue(), log: (message, extra) => logger.info(message, extra ?? {}) },
    { graceSeconds: webhookDefaults.sweepGraceSeconds, limit: webhookDefaults.sweepBatchLimit },
  );
  return { resent: report.resent.length };
});
