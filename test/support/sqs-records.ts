import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { dynamoClient } from '../../lambdas/adapters/aws-clients';
import { deliveryMessageKeyIn } from '../../lambdas/adapters/dynamo-service-secret-store';
import { sealDeliveryMessage } from '../../lambdas/core/delivery-message-seal';
import { toSqsRecord } from '../../lib/local/sqs-event-source';
import { ENV } from '../../lib/topology';

/** An SQS message as Lambda's event source hands it to a consumer: the runtime's own conversion. */
export const toRecord = toSqsRecord;

/** The key that seals delivery messages in the secrets table the test provisioned (made if none yet). */
export function testDeliveryMessageKey() {
  const secretsTableName = process.env[ENV.secretsTableName];
  if (!secretsTableName) throw new Error(`${ENV.secretsTableName} is unset: provision the test's resources first`);
  return deliveryMessageKeyIn(dynamoClient(), secretsTableName);
}

/** A delivery message's body as Herald's queue sends it: sealed, so the deliver worker accepts it. */
export async function sealedDeliveryBody(message: object): Promise<string> {
  return JSON.stringify(sealDeliveryMessage(message, await testDeliveryMessageKey().getOrCreate()));
}

/**
 * Receives the messages of one request from a queue, up to `count` of them, as event-source
 * records; other messages received on the way are made visible again at once.
 */
export async function receiveFor(
  sqs: SQSClient,
  queue: { url: string; arn: string },
  requestId: string,
  count = 1,
  timeoutMs = 5_000,
): Promise<SQSRecord[]> {
  const found: SQSRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (found.length < count && Date.now() < deadline) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: 10,
        // Short polls: a message made visible again by a visibility change does not wake a long poll here.
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    for (const message of Messages) {
      if (JSON.parse(message.Body ?? '{}').requestId === requestId) found.push(toRecord(message, queue.arn));
      // Someone else's message: make it visible again for whoever waits for it.
      else await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: 0 }));
    }
    if (found.length < count) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return found;
}

/** Puts a second copy of a message on the queue: what an SQS duplicate delivery looks like to a consumer. */
export async function duplicate(sqs: SQSClient, queueUrl: string, record: SQSRecord): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: record.body }));
}

/** Deletes a handled message, as the event source does for every record not reported as failed. */
export async function acknowledge(sqs: SQSClient, queueUrl: string, record: SQSRecord): Promise<void> {
  await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: record.receiptHandle }));
}
