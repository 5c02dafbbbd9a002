import { ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { provisionForTest } from '../support/endpoints';
import { apiEvent, invoke, lambdaContext } from '../support/api-events';

let handlers: { submit: unknown; status: unknown; process: (event: SQSEvent, context: unknown) => Promise<unknown> };
let sqs: SQSClient;
let queueUrl: string;
/** Log lines go here while a test captures them; otherwise they are dropped. */
let capture: string[] | undefined;

beforeAll(async () => {
  // Handlers reset the level to the one the logger started with on every invocation, so it
  // must start at INFO; the lines are kept off the test output unless a test captures them.
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    capture?.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
  const resources = await provisionForTest('trace');
  queueUrl = resources.queues.requests.url;
  sqs = new SQSClient({ endpoint: resources.endpoints.sqs });
  handlers = {
    submit: (await import('../../lambdas/handlers/submit-request')).handler,
    status: (await import('../../lambdas/handlers/get-request-status')).handler,
    process: (await import('../../lambdas/handlers/process-requests')).handler as never,
  };
});

afterAll(() => {
  // The environment outlives this file in the jest worker: later files must start quiet again.
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  sqs.destroy();
  jest.restoreAllMocks();
});

const submit = (headers: Record<string, string>, body: object = { type: 'demo.sleep', payload: {} }) =>
  invoke(handlers.submit, apiEvent({ method: 'POST', path: '/v1/requests', headers, body, merchantId: 'mer_trace' }));

/** Every JSON log line the handlers write while `action` runs. */
async function logLinesOf(action: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  capture = lines;
  try {
    await action();
  } finally {
    capture = undefined;
  }
  return lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

function sqsEventOf(messages: Message[]): SQSEvent {
  return {
    Records: messages.map((m) => ({
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body!,
      attributes: { ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1' } as never,
      messageAttributes: Object.fromEntries(
        Object.entries(m.MessageAttributes ?? {}).map(([name, v]) => [name, { dataType: v.DataType!, stringValue: v.StringValue }]),
      ) as never,
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:requests',
      awsRegion: 'us-east-1',
    })),
  };
}

describe('X-Request-ID', () => {
  it('echoes a valid client X-Request-ID on success and on errors', async () => {
    const accepted = await submit({ 'idempotency-key': 'trace-1', 'x-request-id': 'client-trace-0001' });
    const refused = await submit({ 'idempotency-key': 'trace-1', 'x-request-id': 'client-trace-0002' }, { type: 'demo.sleep', payload: { ms: 9 } });
    const missing = await invoke(
      handlers.status,
      apiEvent({ method: 'GET', path: '/v1/requests/req_x', pathParameters: { id: 'req_x' }, headers: { 'x-request-id': 'client-trace-0003' }, merchantId: 'mer_trace' }),
    );
    expect([accepted.status, refused.status, missing.status]).toEqual([202, 422, 404]);
    expect(accepted.headers['X-Request-ID']).toBe('client-trace-0001');
    expect(refused.headers['X-Request-ID']).toBe('client-trace-0002');
    expect(missing.headers['X-Request-ID']).toBe('client-trace-0003');
  });

  it.each([
    ['absent', undefined],
    ['with spaces', 'not a trace id'],
    ['too long', 'x'.repeat(129)],
  ])('generates a new one when the client sent none or an unusable one (%s)', async (_, sent) => {
    const response = await submit({ 'idempotency-key': `trace-gen-${_}`, ...(sent ? { 'x-request-id': sent } : {}) });
    expect(response.headers['X-Request-ID']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(response.headers['X-Request-ID']).not.toBe(sent);
  });

  it('is on every log line of the submit, travels as a message attribute, and is on every log line of the worker', async () => {
    // Drain what earlier tests queued, so the message below is the only one received.
    for (let drained = 1; drained > 0; ) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }));
      drained = Messages.length;
    }
    const submitLines = await logLinesOf(() => submit({ 'idempotency-key': 'trace-logs-1', 'x-request-id': 'trace-logs-abc' }));
    expect(submitLines.map((line) => line.message)).toContain('Request accepted');
    expect(submitLines.map((line) => line.traceId)).toEqual(submitLines.map(() => 'trace-logs-abc'));

    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'], WaitTimeSeconds: 1 }),
    );
    expect(Messages).toHaveLength(1);
    expect(Messages[0]!.MessageAttributes?.['X-Request-ID']?.StringValue).toBe('trace-logs-abc');

    const workerLines = await logLinesOf(() => handlers.process(sqsEventOf(Messages), lambdaContext()));
    expect(workerLines.map((line) => line.message)).toContain('Request succeeded');
    expect(workerLines.map((line) => line.traceId)).toEqual(workerLines.map(() => 'trace-logs-abc'));
  });
});
