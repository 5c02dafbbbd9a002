import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { countMetric, flushMetrics, METRIC, metrics, tracer } from '../../../lambdas/handlers/shared/observability';

afterEach(() => jest.restoreAllMocks());

describe('metrics', () => {
  it('stays off stdout in tests, where POWERTOOLS_METRICS_DISABLED is set', () => {
    const write = jest.spyOn(process.stdout, 'write');
    countMetric(METRIC.requestsSucceeded);
    flushMetrics();
    expect(write.mock.calls.filter(([chunk]) => String(chunk).includes('"_aws"'))).toEqual([]);
  });

  it('counts a metric as one Count in the current invocation', () => {
    const add = jest.spyOn(metrics, 'addMetric');
    countMetric(METRIC.requestsAccepted);
    expect(add).toHaveBeenCalledWith('RequestsAccepted', MetricUnit.Count, 1);
    flushMetrics();
  });

  it('writes the counted metrics out once per flush and starts the next invocation empty', () => {
    const publish = jest.spyOn(metrics, 'publishStoredMetrics');
    countMetric(METRIC.deliveriesFailed);
    countMetric(METRIC.deliveriesDead);
    flushMetrics();
    expect(publish).toHaveBeenCalledTimes(1);
    expect(metrics.hasStoredMetrics()).toBe(false);
  });

  it('writes nothing when an invocation counted nothing, instead of warning about it', () => {
    const publish = jest.spyOn(metrics, 'publishStoredMetrics');
    flushMetrics();
    expect(publish).not.toHaveBeenCalled();
  });
});

describe('tracer', () => {
  it('is off outside Lambda, so clients are used as they are', () => {
    expect(tracer.isTracingEnabled()).toBe(false);
  });
});
