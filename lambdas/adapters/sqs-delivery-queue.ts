import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import { sealDeliveryMessage } from '../core/webhooks/delivery-message-seal';
import type { DeliveryMessageSender, DeliveryQueue } from '../core/webhooks/ports';
import type { DeliveryMessage } from '../core/webhooks/delivery-message';
import { deliveryTenantOf } from '../core/webhooks/callbacks';
import { TRACE_ID_ATTRIBUTE } from './sqs-request-queue';

/** SQS delays a message by at most 15 minutes; a longer wait is served by sending it again then. */
const MAX_DELAY_SECONDS = 900;
const delaySecondsUntil = (at: string) => Math.min(Math.max(Math.ceil((Date.parse(at) - Date.now()) / 1000), 0), MAX_DELAY_SECONDS);

/** SendMessageBatch takes at most ten entries and 256 KiB in all (bodies and attributes). */
const BATCH_ENTRIES = 10;
const BATCH_BYTES = 256 * 1024;

type Entry = SendMessageBatchRequestEntry & { readonly Id: string; readonly MessageBody: string };

/** What SQS counts of an entry against the call's 256 KiB: the body, and each attribute's name, type and value. */
const entryBytes = (entry: Entry) =>
  Buffer.byteLength(entry.MessageBody) +
  Object.entries(entry.MessageAttributes ?? {}).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '') + Buffer.byteLength(value.StringValue ?? ''),
    0,
  );

/** Consecutive runs of entries, each within one call's limits. */
function callsOf(entries: readonly Entry[]): Entry[][] {
  const calls: Entry[][] = [];
  let current: Entry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entryBytes(entry);
    if (current.length === BATCH_ENTRIES || (current.length > 0 && bytes + size > BATCH_BYTES)) {
      calls.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) calls.push(current);
  return calls;
}

/** Where the key that seals messages comes from: made by the first sender, then read once per container. */
export interface DeliveryMessageKeySource {
  getOrCreate(): Promise<Buffer>;
}

/**
 * The transport for deliveries: one message per (event, endpoint), so a slow endpoint delays only
 * its own. Every message goes out sealed (lambdas/core/webhooks/delivery-message-seal.ts): the deliver
 * worker posts nothing that Herald did not send.
 */
export class SqsDeliveryQueue implements DeliveryQueue, DeliveryMessageSender {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly messageKey: DeliveryMessageKeySource,
  ) {}

  async send(messages: readonly DeliveryMessage[], options: { readonly delaySeconds?: number } = {}): Promise<void> {
    const { unsent, reason } = await this.sendEntries(messages, options);
    // A delivery has no record before its first attempt, so no sweeper finds an unsent one: the caller must fail and run again.
    if (unsent.length > 0) throw new Error(`${unsent.length} delivery messages were not sent: ${reason}`);
  }

  async sendEach(messages: readonly DeliveryMessage[]): Promise<readonly number[]> {
    return (await this.sendEntries(messages, {})).unsent;
  }

  /**
   * Sends in as few calls as the limits allow; an entry SQS failed on its own side (not the
   * sender's fault) is sent once more, and a call that failed as a whole leaves all its entries
   * unsent, without stopping the calls after it.
   */
  private async sendEntries(
    messages: readonly DeliveryMessage[],
    options: { readonly delaySeconds?: number },
  ): Promise<{ readonly unsent: number[]; readonly reason?: string }> {
    if (messages.length === 0) return { unsent: [] };
    const key = await this.messageKey.getOrCreate();
    const entries = messages.map((message, i) => this.entryOf(message, String(i), key, options));
    const unsent: number[] = [];
    let reason: string | undefined;
    for (const call of callsOf(entries)) {
      let pending = call;
      for (let round = 0; round < 2 && pending.length > 0; round += 1) {
        try {
          const { Failed = [] } = await this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }));
          reason ??= Failed[0] ? `${Failed[0].Code}: ${Failed[0].Message ?? ''}` : undefined;
          const failed = new Map(Failed.map((failure) => [failure.Id, failure]));
          const retryable = pending.filter((entry) => failed.has(entry.Id) && !failed.get(entry.Id)?.SenderFault);
          unsent.push(...pending.filter((entry) => failed.get(entry.Id)?.SenderFault || (round === 1 && failed.has(entry.Id))).map((entry) => Number(entry.Id)));
          pending = retryable;
        } catch (error) {
          reason ??= error instanceof Error ? error.message : String(error);
          unsent.push(...pending.map((entry) => Number(entry.Id)));
          pending = [];
        }
      }
    }
    return { unsent: unsent.sort((a, b) => a - b), ...(reason !== undefined ? { reason } : {}) };
  }

  private entryOf(message: DeliveryMessage, id: string, key: Buffer, options: { readonly delaySeconds?: number }): Entry {
    return {
      Id: id,
      MessageBody: JSON.stringify(sealDeliveryMessage(message, key)),
      // The endpoint is the tenant (the topology's tenantField): a failing endpoint's backlog is served after the healthy ones'.
      MessageGroupId: deliveryTenantOf(message),
      ...(options.delaySeconds
        ? { DelaySeconds: options.delaySeconds }
        : message.notBefore
          ? { DelaySeconds: delaySecondsUntil(message.notBefore) }
          : {}),
      ...(message.traceId ? { MessageAttributes: { [TRACE_ID_ATTRIBUTE]: { DataType: 'String', StringValue: message.traceId } } } : {}),
    };
  }

  async delayRedelivery(receiptHandle: string, seconds: number): Promise<void> {
    await this.client.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }),
    );
  }
}
