import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS, METRICS_NAMESPACE, SERVICE_NAME } from '../../../lib/topology';
import { tracer } from '../../adapters/tracing';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME;

/**
 * The one logger of a Lambda (JSON, with the trace id appended per invocation). Powertools reads
 * its level from POWERTOOLS_LOG_LEVEL, which the stack and the local runtime set, and adds the
 * X-Ray trace id (`xray_trace_id`) on AWS by itself.
 */
export const logger = new Logger({ serviceName });

/**
 * The one metrics buffer of a Lambda, written as CloudWatch EMF (log lines CloudWatch turns into
 * metrics, no API call). The namespace comes from POWERTOOLS_METRICS_NAMESPACE, which the stack
 * sets; POWERTOOLS_METRICS_DISABLED=true (tests, local runtime) keeps EMF off stdout.
 */
export const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE, serviceName });

export { tracer };

/** The names of Herald's own metrics, shared with the stack's dashboard. */
export const METRIC = METRICS;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** Counts one occurrence of `name` in this invocation; `flushMetrics` writes the counts out. */
export function countMetric(name: MetricName, value = 1): void {
  metrics.addMetric(name, MetricUnit.Count, value);
}

/**
 * Writes the invocation's metrics as one EMF line. Called at the end of every invocation, in a
 * `finally`; an invocation that counted nothing writes nothing (Powertools' own flush would warn
 * "No application metrics to publish" on every status read).
 */
export function flushMetrics(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}
