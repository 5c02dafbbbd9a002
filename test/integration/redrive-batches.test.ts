import { PurgeQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import { dynamoClient } from '../../lambdas/adapters/aws-clients';
import { DynamoRedriveLog } from '../../lambdas/adapters/dynamo-redrive-log';
import { approximateDepth } from '../../lib/operations/queue-depths';
import { redrive, REDRIVE_GENERATION_ATTRIBUTE, type RedriveTarget } from '../../lib/operations/redrive';
import { provisionForTest } from '../support/endpoints';

// The deliveries queue pair of a table and queues of this file's own, with no worker polling them:
// what the run moved stays where it put it.
let sqs: SQSClient;
let target: RedriveTarget;
let redrives: DynamoRedriveLog;

beforeAll(async () => {
  const resources = await provisionForTest('redrive-batches');
  sqs = new SQSClient({ endpoint: resources.endpoints.sqs });
  redrives = new DynamoRedriveLog(dynamoClient(), resources.tableName);
  const { url, deadLetterUrl } = resources.queues.deliveries;
  target = { sqs, queueName: 'deliveries', queueUrl: url, deadLetterUrl, redrives, moveTasks: false };
});

afterAll(() => sqs.destroy());

async function deadLetter(body: string, attributes: Record<string, MessageAttributeValue> = {}): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: target.deadLetterUrl, MessageBody: body, MessageAttributes: attributes }));
}

/** Receives everything visible in a queue (and hides it for a minute), with attributes. */
async function drain(queueUrl: string) {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60, MessageAttributeNames: ['All'] }),
  );
  return Messages;
}

describe('a batch redrive', () => {
  it('moves what was waiting, stamping each message with its generation', async () => {
    await deadLetter('first', { 'X-Request-ID': { DataType: 'String', StringValue: 'trace-1' } });
    await deadLetter('second');

    const report = await redrive(target);

    expect(report).toMatchObject({ mode: 'batches', waiting: 2, moved: 2, failed: 0, cameBack: 0 });
    const moved = await drain(target.queueUrl);
    expect(moved.map((m) => m.Body).sort()).toEqual(['first', 'second']);
    for (const message of moved) expect(message.MessageAttributes?.[REDRIVE_GENERATION_ATTRIBUTE]?.StringValue).toBe(String(report.generation));
    expect(moved.find((m) => m.Body === 'first')!.MessageAttributes?.['X-Request-ID']?.StringValue).toBe('trace-1');
    expect(await approximateDepth(sqs, target.deadLetterUrl)).toBe(0);
  });

  it('leaves a message that came back during the run in the DLQ, visible for the next redrive', async () => {
    // A message this run moved and that failed its way back: it carries the run's own generation.
    const runs = (await redrives.generation('deliveries')) + 1;
    await deadLetter('came back', { [REDRIVE_GENERATION_ATTRIBUTE]: { DataType: 'Number', StringValue: String(runs) } });
    // One an earlier redrive moved, that failed again before this run began: this run moves it.
    await deadLetter('earlier redrive', { [REDRIVE_GENERATION_ATTRIBUTE]: { DataType: 'Number', StringValue: String(runs - 1) } });

    const report = await redrive(target);

    expect(report).toMatchObject({ generation: runs, waiting: 2, moved: 1, failed: 0, cameBack: 1 });
    expect((await drain(target.queueUrl)).map((m) => m.Body)).toEqual(['earlier redrive']);
    // Visible again at once, not after the run's visibility timeout.
    expect((await drain(target.deadLetterUrl)).map((m) => m.Body)).toEqual(['came back']);
  });

  it('moves no more than --max, and nothing more than was waiting', async () => {
    await drainAll();
    for (const body of ['a', 'b', 'c']) await deadLetter(body);

    expect(await redrive(target, { max: 2 })).toMatchObject({ waiting: 3, moved: 2 });
    expect(await redrive(target, { max: 5 })).toMatchObject({ waiting: 1, moved: 1 });
    expect(await redrive(target)).toMatchObject({ waiting: 0, moved: 0 });
  });
});

/** Deletes what earlier cases left in both queues (including what they hid by receiving it), so counts start at zero. */
async function drainAll(): Promise<void> {
  for (const queueUrl of [target.deadLetterUrl, target.queueUrl]) {
    await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
    expect(await approximateDepth(sqs, queueUrl)).toBe(0);
  }
}
