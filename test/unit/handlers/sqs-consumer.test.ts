import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext } from '../../../lib/local/lambda-context';
import { functions } from '../../../lib/topology';
import { redeliver, sqsConsumer, type ConsumedMessage } from '../../../lambdas/handlers/shared/sqs-consumer';

interface Greeting {
  readonly to: string;
}

const parseGreeting = (body: string): Greeting | undefined => {
  try {
    const parsed = JSON.parse(body) as Partial<Greeting>;
    return typeof parsed.to === 'string' ? { to: parsed.to } : undefined;
  } catch {
    return undefined;
  }
};

function record(messageId: string, body: string, extra: { receiveCount?: number; traceId?: string } = {}): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(extra.receiveCount ?? 1),
      SentTimestamp: '0',
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: extra.traceId ? { 'X-Request-ID': { stringValue: extra.traceId, dataType: 'String' } } : {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:greetings',
    awsRegion: 'us-east-1',
  };
}

async function run(records: SQSRecord[], handle: (consumed: ConsumedMessage<Greeting>) => Promise<ReturnType<typeof redeliver> | void>) {
  const handler = sqsConsumer({ describe: 'greeting', parse: parseGreeting }, handle);
  const event: SQSEvent = { Records: records };
  return handler(event, lambdaContext('process', functions.process));
}

describe('the SQS consumer wrapper', () => {
  it('reports only the records whose handler asked for a redelivery', async () => {
    const response = await run([record('m1', '{"to":"ada"}'), record('m2', '{"to":"bob"}')], async ({ message }) =>
      message.to === 'bob' ? redeliver('bob is busy') : undefined,
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
  });

  it('reports every record of a batch that failed entirely, without failing the invocation', async () => {
    const response = await run([record('m1', '{"to":"ada"}'), record('m2', '{"to":"bob"}')], async () => redeliver('later'));
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m1', 'm2']);
  });

  it('reports a record whose handler threw, and no other', async () => {
    const response = await run([record('m1', '{"to":"ada"}'), record('m2', '{"to":"bob"}')], async ({ message }) => {
      if (message.to === 'ada') throw new Error('the table is unavailable');
    });
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
  });

  it('drops an unreadable message without calling the handler or asking for it again', async () => {
    const seen: string[] = [];
    const response = await run([record('m1', 'not json'), record('m2', '{"to":"bob"}')], async ({ message }) => void seen.push(message.to));
    expect(seen).toEqual(['bob']);
    expect(response).toEqual({ batchItemFailures: [] });
  });

  it('hands the handler the receive count, the receipt handle and a logger carrying the message and trace ids', async () => {
    const seen: Array<Record<string, unknown>> = [];
    await run([record('m1', '{"to":"ada"}', { receiveCount: 3, traceId: 'trace-abc' })], async ({ receiveCount, receiptHandle, log }) => {
      seen.push({ receiveCount, receiptHandle, ...log.getPersistentLogAttributes() });
    });
    expect(seen).toEqual([expect.objectContaining({ receiveCount: 3, receiptHandle: 'rh-m1', messageId: 'm1', traceId: 'trace-abc' })]);
  });
});
