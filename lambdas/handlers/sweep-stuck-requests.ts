import { sweepStuckRequests } from '../core/requests/sweep-stuck-requests';
import { requestQueue, requestPorts, settings } from './shared/dependencies';
import { scheduledJob } from './shared/middlewares';
import { logger } from './shared/observability';

/**
 * Scheduled (every minute on AWS, a timer in the local runtime): puts requests that an enqueue
 * or a worker left behind back on the requests queue. Each re-enqueued request is logged with
 * the trace id it was submitted with.
 */
export const handler = scheduledJob(async () => {
  const report = await sweepStuckRequests(
    { store: requestPorts().sweeper, queue: requestQueue(), log: (message, extra) => logger.info(message, extra ?? {}) },
    settings.sweep(),
  );
  if (report.resent.length || report.failed.length) {
    logger.info('Sweep finished', { resent: report.resent.length, failed: report.failed.length });
  }
  return { resent: report.resent.length, failed: report.failed.length };
});
