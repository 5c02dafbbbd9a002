import { LogFormatter, Logger, LogItem } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS, METRICS_NAMESPACE, SERVICE_NAME } from '../../settings/observability';
import { tracer } from '../../adapters/tracing';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME;

/**
 * Powertools' line without what CloudWatch already knows: the function's name, ARN and memory
 * name its log group and never change within it, the sampling rate is the same on every line, and
 * the time is the log event's own (`@timestamp`, which the dashboard's query reads; a line that
 * carries metrics has EMF's `_aws.Timestamp` as well). Log ingestion is billed per byte
 * (docs/performance.md). What remains identifies the invocation (`function_request_id`, the link
 * to Lambda's own lines about it, such as a timeout); `cold_start` is written only on the cold
 * start itself, and the X-Ray trace id only when X-Ray records the invocation: with active
 * tracing off Lambda still passes a trace id, marked `Sampled=0`, that leads to no trace.
 */
class CompactLogFormatter extends LogFormatter {
  formatAttributes(attributes: UnformattedAttributes, additionalLogAttributes: LogAttributes): LogItem {
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: attributes.message,
        service: attributes.serviceName,
        cold_start: attributes.lambdaContext?.coldStart || undefined,
        function_request_id: attributes.lambdaContext?.awsRequestId,
        xray_trace_id: traceRecorded() ? attributes.xRayTraceId : undefined,
      },
    }).addAttributes(additionalLogAttributes);
  }
}

/** Whether X-Ray records this invocation, by the trace header Lambda sets for it. */
function traceRecorded(): boolean {
  return /(?:^|;)Sampled=1(?:;|$)/.test(process.env._X_AMZN_TRACE_ID ?? '');
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
class HeraldMetrics extends Metrics {
  /** Whether EMF goes to stdout (Powertools keeps the flag to itself). */
  writesOut(): boolean {
    return !this.isDisabled();
  }
}

export const metrics = new HeraldMetrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE, serviceName });

export { tracer };

/** The names of Herald's own metrics, shared with the stack's dashboard. */
export const METRIC = METRICS;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** Counts one occurrence of `name` in this invocation; `flushMetrics` writes the counts out. */
export function countMetric(name: MetricName, value = 1): void {
  metrics.addMetric(name, MetricUnit.Count, value);
}

/** Levels at which an INFO line is written. */
const INFO_WRITTEN = new Set(['TRACE', 'DEBUG', 'INFO']);

/**
 * Writes a request's one INFO line on its happy path in this function. When `carriesMetrics`, the
 * line is also the invocation's EMF document: the metrics counted so far go out in it (same
 * namespace, dimension and values as their own line would have had) instead of in a line of their
 * own, so a request costs one log event per function. The caller passes false while other records
 * of its batch are still open: the record that closes the batch carries its counts. With INFO not
 * written (a WARN deployment) or metrics off, the metrics stay for `flushMetrics`, which writes
 * them as before.
 */
export function logRequestOutcome(log: Logger, message: string, attributes: LogAttributes, carriesMetrics = true): void {
  if (!carriesMetrics || !metrics.writesOut() || !metrics.hasStoredMetrics() || !INFO_WRITTEN.has(log.getLevelName())) {
    log.info(message, attributes);
    return;
  }
  // The line already has `service` (the same name as the dimension); Powertools' logger would drop
  // it as a reserved key with a warning.
  const { service: _dimensionOnTheLine, ...emf } = metrics.serializeMetrics();
  log.info(message, { ...attributes, ...emf });
  metrics.clearMetrics();
}

/**
 * Writes the invocation's metrics as one EMF line. Called at the end of every invocation, in a
 * `finally`; an invocation that counted nothing, or whose counts a request's line carried
 * (`logRequestOutcome`), writes nothing (Powertools' own flush would warn "No application metrics
 * to publish" on every status read).
 */
export function flushMetrics(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}
