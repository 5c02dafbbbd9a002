import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { functions, type QueueName, type QueueSpec } from '../topology';
import { lambdaContext, loadHandler } from './lambda-context';

type SqsHandler = (event: SQSEvent, context: unknown) => Promise<SQSBatchResponse | void>;

/**
 * Emulates Lambda's SQS event source mapping for one queue: long-polls, hands the consumer the
 * same event Lambda would (records with receipt handles, attributes incl. ApproximateReceiveCount,
 * message attributes, eventSourceARN), deletes what succeeded, and leaves the reported
 * `batchItemFailures` on the queue so SQS retries them and dead-letters them after maxReceiveCount.
 */
export class SqsEventSource {
  private running = false;
  private loops: Promise<void>[] = [];
  private inFlight = 0;

  constructor(
    private readonly client: SQSClient,
    private readonly queueName: QueueName,
    private readonly spec: QueueSpec,
    private readonly queueUrl: string,
    private readonly queueArn: string,
    private readonly pollers = Math.min(spec.maxConcurrency, 4),
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops = Array.from({ length: this.pollers }, () => this.poll());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Batches being handled right now; a test can wait for the pipeline to go quiet. */
  get busy(): boolean {
    return this.inFlight > 0;
  }

  private async poll(): Promise<void> {
    const handler = loadHandler<SqsHandler>(functions[this.spec.consumer]);
    while (this.running) {
      let messages: Message[] = [];
      try {
        const received = await this.client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.queueUrl,
            MaxNumberOfMessages: Math.min(this.spec.batchSize, 10),
            // Short enough that stop() returns promptly, long enough not to spin.
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        );
        messages = received.Messages ?? [];
      } catch (error) {
        if (!this.running) return;
        console.error(`[${this.queueName}] receive failed: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      if (messages.length === 0) continue;
      this.inFlight++;
      try {
        await this.invoke(handler, messages);
      } catch (error) {
        // Like Lambda's event source mapping, a failed delete never stops the polling: the
        // undeleted messages come back after their visibility timeout.
        console.error(`[${this.queueName}] deleting a handled batch failed: ${(error as Error).message}`);
      } finally {
        this.inFlight--;
      }
    }
  }

  private async invoke(handler: SqsHandler, messages: Message[]): Promise<void> {
    const records = messages.map((message) => toSqsRecord(message, this.queueArn));
    let failed: Set<string>;
    try {
      const response = await handler({ Records: records }, lambdaContext(this.spec.consumer, functions[this.spec.consumer]));
      failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (error) {
      // A thrown handler fails the whole batch, exactly as on AWS.
      console.error(`[${this.queueName}] consumer threw: ${(error as Error).message}`);
      failed = new Set(records.map((r) => r.messageId));
    }
    const done = messages.filter((m) => !failed.has(m.MessageId!));
    if (done.length === 0) return;
    await this.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: this.queueUrl,
        Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
}

/** An SQS message as Lambda's event source mapping hands it to a consumer. */
export function toSqsRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: value.DataType ?? 'String',
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
      stringListValues: [],
      binaryListValues: [],
    };
  }
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}
