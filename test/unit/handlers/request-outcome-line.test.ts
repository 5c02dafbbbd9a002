import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext } from '../../../lib/local/lambda-context';
import { functions } from '../../../lib/topology';

// As deployed: INFO lines and EMF on stdout. Set before the modules below build their logger and metrics.
process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
process.env.POWERTOOLS_METRICS_DISABLED = 'false';

type Observability = typeof import('../../../lambdas/handlers/shared/observability');
type Consumer = typeof import('../../../lambdas/handlers/shared/sqs-consumer');
let observability: Observability;
let consumer: Consumer;
beforeAll(() => {
  jest.isolateModules(() => {
    observability = require('../../../lambdas/handlers/shared/observability') as Observability;
    consumer = require('../../../lambdas/handlers/shared/sqs-consumer') as Consumer;
  });
});

interface EmfDocument {
  _aws?: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

/** The JSON lines written to stdout and stderr (warnings and errors) while `work` runs, in order. */
async function linesWrittenBy(work: () => unknown): Promise<EmfDocument[]> {
  const written: string[] = [];
  const keep = (chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  };
  const writes = [jest.spyOn(process.stdout, 'write').mockImplementation(keep), jest.spyOn(process.stderr, 'write').mockImplementation(keep)];
  try {
    await work();
  } finally {
    for (const write of writes) write.mockRestore();
  }
  return written.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as EmfDocument);
}

/** The metric names an EMF document declares, with the value of each on the line. */
function metricsOf(line: EmfDocument): Record<string, unknown> {
  const declared = line._aws?.CloudWatchMetrics.flatMap((directive) => directive.Metrics.map((metric) => metric.Name)) ?? [];
  return Object.fromEntries(declared.map((name) => [name, line[name]]));
}

describe("a request's one line per function", () => {
  it('is its INFO line and the EMF document of what it counted, with no metrics line of its own', async () => {
    const { countMetric, flushMetrics, logger, logRequestOutcome, METRIC } = observability;
    const lines = await linesWrittenBy(() => {
      countMetric(METRIC.requestsAccepted);
      logRequestOutcome(logger, 'Request accepted', { requestId: 'req_1', merchantId: 'mer_1' });
      flushMetrics();
    });
    expect(lines).toHaveLength(1);
    const [line] = lines as [EmfDocument];
    expect(line).toMatchObject({ level: 'INFO', message: 'Request accepted', requestId: 'req_1', merchantId: 'mer_1', service: 'herald' });
    // What CloudWatch turns into the dashboard's metric: namespace Herald, dimension service=herald.
    expect(line._aws?.CloudWatchMetrics).toEqual([
      { Namespace: 'Herald', Dimensions: [['service']], Metrics: [{ Name: 'RequestsAccepted', Unit: 'Count' }] },
    ]);
    expect(metricsOf(line)).toEqual({ RequestsAccepted: 1 });
  });

  it('is a plain INFO line when the request counted nothing (a replay)', async () => {
    const { flushMetrics, logger, logRequestOutcome } = observability;
    const lines = await linesWrittenBy(() => {
      logRequestOutcome(logger, 'Request replayed', { requestId: 'req_1' });
      flushMetrics();
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'INFO', message: 'Request replayed', requestId: 'req_1' });
    expect(lines[0]).not.toHaveProperty('_aws');
  });

  it('leaves the metrics to their own line when INFO lines are not written, so no count is lost with it', async () => {
    const { countMetric, flushMetrics, logger, logRequestOutcome, METRIC } = observability;
    logger.setLogLevel('WARN');
    try {
      const lines = await linesWrittenBy(() => {
        countMetric(METRIC.requestsAccepted);
        logRequestOutcome(logger, 'Request accepted', { requestId: 'req_1' });
        flushMetrics();
      });
      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toHaveProperty('level');
      expect(metricsOf(lines[0]!)).toEqual({ RequestsAccepted: 1 });
    } finally {
      logger.setLogLevel('INFO');
    }
  });
});

describe('what every line leaves out', () => {
  it('tells the cold start only on it, and has neither the time nor a trace id X-Ray does not record', async () => {
    // With active tracing off, Lambda still passes a trace header, marked not sampled.
    process.env._X_AMZN_TRACE_ID = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0';
    // As Lambda sets it for a function without provisioned concurrency: Powertools tells cold starts only then.
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
    let fresh!: Observability;
    jest.isolateModules(() => {
      fresh = require('../../../lambdas/handlers/shared/observability') as Observability;
    });
    try {
      const first = lambdaContext('submit', functions.submit);
      const second = lambdaContext('submit', functions.submit);
      const lines = await linesWrittenBy(() => {
        fresh.logger.addContext(first);
        fresh.logger.info('Request accepted');
        fresh.logger.addContext(second);
        fresh.logger.info('Request accepted');
      });
      expect(lines).toEqual([
        { level: 'INFO', message: 'Request accepted', service: 'herald', cold_start: true, function_request_id: first.awsRequestId },
        { level: 'INFO', message: 'Request accepted', service: 'herald', function_request_id: second.awsRequestId },
      ]);
    } finally {
      delete process.env._X_AMZN_TRACE_ID;
      delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
    }
  });
});

describe('the X-Ray trace id', () => {
  it('is on the line when X-Ray records the invocation', async () => {
    process.env._X_AMZN_TRACE_ID = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    try {
      const lines = await linesWrittenBy(() => observability.logger.info('Request accepted'));
      expect(lines[0]).toMatchObject({ xray_trace_id: '1-5759e988-bd862e3fe1be46a994272793' });
    } finally {
      delete process.env._X_AMZN_TRACE_ID;
    }
  });
});

function record(messageId: string, to: string): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: JSON.stringify({ to }),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'local', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:greetings',
    awsRegion: 'us-east-1',
  };
}

describe("a batch's lines", () => {
  const parse = (body: string) => JSON.parse(body) as { to: string };

  it('are one per record, the last to finish carrying the whole batch\'s counts', async () => {
    const { countMetric, METRIC } = observability;
    const handler = consumer.sqsConsumer({ describe: 'greeting', parse }, async ({ message, logOutcome }) => {
      // Finish in an order unlike the batch's, so the carrier is the last to finish, not the last listed.
      await new Promise((resolve) => setTimeout(resolve, { ada: 30, bob: 10, cy: 20 }[message.to]));
      countMetric(METRIC.requestsSucceeded);
      logOutcome('Request succeeded', { requestId: message.to });
    });
    const event: SQSEvent = { Records: [record('m1', 'ada'), record('m2', 'bob'), record('m3', 'cy')] };
    const lines = await linesWrittenBy(() => handler(event, lambdaContext('process', functions.process)));

    expect(lines.map((line) => line.requestId)).toEqual(['bob', 'cy', 'ada']);
    expect(lines.every((line) => line.level === 'INFO' && line.message === 'Request succeeded')).toBe(true);
    const carriers = lines.filter((line) => line._aws);
    expect(carriers.map((line) => line.requestId)).toEqual(['ada']);
    // Powertools keeps one value per count; CloudWatch sums them: three requests succeeded.
    expect([metricsOf(carriers[0]!).RequestsSucceeded].flat()).toEqual([1, 1, 1]);
  });

  it('are one per record when the batch releases its records together, the last line written carrying the counts', async () => {
    const { countMetric, METRIC } = observability;
    // As the process worker's records wait on their batch's one delivery send, then all finish at once.
    let release!: () => void;
    const sent = new Promise<void>((resolve) => (release = resolve));
    const waiting = { records: 0 };
    const handler = consumer.sqsConsumer({ describe: 'greeting', parse }, async ({ message, logOutcome }) => {
      if (++waiting.records === 3) release();
      await sent;
      countMetric(METRIC.requestsSucceeded);
      logOutcome('Request succeeded', { requestId: message.to });
    });
    const event: SQSEvent = { Records: [record('m1', 'ada'), record('m2', 'bob'), record('m3', 'cy')] };
    const lines = await linesWrittenBy(() => handler(event, lambdaContext('process', functions.process)));

    expect(lines).toHaveLength(3);
    expect(lines.slice(0, 2).some((line) => line._aws)).toBe(false);
    expect([metricsOf(lines[2]!).RequestsSucceeded].flat()).toEqual([1, 1, 1]);
  });

  it('keep a metrics line of their own when the last record to finish took another path', async () => {
    const { countMetric, METRIC } = observability;
    const handler = consumer.sqsConsumer({ describe: 'greeting', parse }, async ({ message, log, logOutcome }) => {
      if (message.to === 'bob') {
        await new Promise((resolve) => setTimeout(resolve, 20));
        countMetric(METRIC.requestsFailed);
        log.warn('Attempt failed; retrying after backoff', { requestId: message.to });
        return consumer.redeliver('later');
      }
      countMetric(METRIC.requestsSucceeded);
      logOutcome('Request succeeded', { requestId: message.to });
    });
    const event: SQSEvent = { Records: [record('m1', 'ada'), record('m2', 'bob')] };
    const lines = await linesWrittenBy(() => handler(event, lambdaContext('process', functions.process)));

    expect(lines.map((line) => line.message ?? '(metrics)')).toEqual(['Request succeeded', 'Attempt failed; retrying after backoff', '(metrics)']);
    expect(lines.slice(0, 2).some((line) => line._aws)).toBe(false);
    expect(metricsOf(lines[2]!)).toEqual({ RequestsSucceeded: 1, RequestsFailed: 1 });
  });
});
