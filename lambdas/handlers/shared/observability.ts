import { LogFormatter, Logger, LogItem } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS, METRICS_NAMESPACE, SERVICE_NAME } from '../../settings/observability';
import { tracer } from '../../adapters/tracing';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME;

/**
 * Powertools' line without what CloudWatch already knows: the function's name, ARN and memory
 * name its log group and never change within it, and the sampling rate is the same on every line.
 * Those fields were about a third of each line's bytes, and log ingestion is billed per byte
 * (docs/performance.md). What remains identifies the invocation (`function_request_id`, the X-Ray
 * trace id on AWS) and the cold start.
 */
class CompactLogFormatter extends LogFormatter {
  formatAttributes(attributes: UnformattedAttributes, additionalLogAttributes: LogAttributes): LogItem {
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: attributes.message,
        timestamp: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        cold_start: attributes.lambdaContext?.coldStart,
        function_request_id: attributes.lambdaContext?.awsRequestId,
        xray_trace_id: attributes.xRayTraceId,
      },
    }).addAttributes(additionalLogAttributes);
  }
}

/**
 * The one logger of a Lambda (JSON, with the trace id appended per invocation). Powertools reads
 * its level from POWERTOOLS_LOG_LEVEL, which the stack and the local runtime set, and adds the
 * X-Ray trace id (`xray_trace_id`) on AWS by itself.
 */
export const logger = new Logger({ serviceName, logFormatter: new CompactLogFormatter() });

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
