import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { sealDeliveryMessage } from '../core/webhooks/delivery-message-seal';
import type { DeliveryQueue } from '../core/webhooks/ports';
import type { DeliveryMessage } from '../core/webhooks/delivery-message';
import { deliveryTenantOf } from '../core/webhooks/callbacks';
import { TRACE_ID_ATTRIBUTE } from './sqs-request-queue';

/** SQS delays a message by at most 15 minutes; a longer wait is served by sending it again then. */
const MAX_DELAY_SECONDS = 900;
const delaySecondsUntil = (at: string) => Math.min(Math.max(Math.ceil((Date.parse(at) - Date.now()) / 1000), 0), MAX_DELAY_SECONDS);

/** SendMessageBatch takes at most ten entries. */
const BATCH_SIZE = 10;

/** Where the key that seals messages comes from: made by the first sender, then read once per container. */
export interface DeliveryMessageKeySource {
  getOrCreate(): Promise<Buffer>;
}

/**
 * The transport for deliveries: one message per (event, endpoint), so a slow endpoint delays only
 * its own. Every message goes out sealed (lambdas/core/webhooks/delivery-message-seal.ts): the deliver
 * worker posts nothing that Herald did not send.
 */
export class SqsDeliveryQueue implements DeliveryQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly messageKey: DeliveryMessageKeySource,
  ) {}

  async send(messages: readonly DeliveryMessage[], options: { readonly delaySeconds?: number } = {}): Promise<void> {
    if (messages.length === 0) return;
    const key = await this.messageKey.getOrCreate();
    for (let start = 0; start < messages.length; start += BATCH_SIZE) {
      const batch = messages.slice(start, start + BATCH_SIZE);
      const { Failed = [] } = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((message, i) => ({
            Id: String(i),
            MessageBody: JSON.stringify(sealDeliveryMessage(message, key)),
            // The endpoint is the tenant (the topology's tenantField): a failing endpoint's backlog is served after the healthy ones'.
            MessageGroupId: deliveryTenantOf(message),
            ...(options.delaySeconds
              ? { DelaySeconds: options.delaySeconds }
              : message.notBefore
                ? { DelaySeconds: delaySecondsUntil(message.notBefore) }
                : {}),
            ...(message.traceId
              ? { MessageAttributes: { [TRACE_ID_ATTRIBUTE]: { DataType: 'String', StringValue: message.traceId } } }
              : {}),
          })),
        }),
      );
      // A delivery has no record before its first attempt, so no sweeper finds an unsent one: the caller must fail and run again.
      if (Failed.length > 0) throw new Error(`${Failed.length} delivery messages were not sent: ${Failed[0]?.Message ?? Failed[0]?.Code}`);
    }
  }

  async delayRedelivery(receiptHandle: string, seconds: number): Promise<void> {
    await this.client.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }),
    );
  }
}
