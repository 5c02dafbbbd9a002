import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { RequestMessage, RequestQueue } from '../core/requests/ports';

export const TRACE_ID_ATTRIBUTE = 'X-Request-ID';

/** The transport for requests. The table is the truth; a message only says "look at this one". */
export class SqsRequestQueue implements RequestQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(message: RequestMessage, traceId?: string, delaySeconds?: number): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(message),
        ...(delaySeconds ? { DelaySeconds: delaySeconds } : {}),
        // The merchant is the tenant (the topology's tenantField): one merchant's burst is served after the quiet merchants' work.
        MessageGroupId: message.merchantId,
        ...(traceId ? { MessageAttributes: { [TRACE_ID_ATTRIBUTE]: { DataType: 'String', StringValue: traceId } } } : {}),
      }),
    );
  }

  async delayRedelivery(receiptHandle: string, seconds: number): Promise<void> {
    await this.client.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }),
    );
  }
}

export function parseRequestMessage(body: string): RequestMessage | undefined {
  try {
    const parsed = JSON.parse(body) as Partial<RequestMessage>;
    if (typeof parsed.requestId === 'string' && typeof parsed.merchantId === 'string' && typeof parsed.type === 'string') {
      return { requestId: parsed.requestId, merchantId: parsed.merchantId, type: parsed.type };
    }
  } catch {
    // A body that is not ours is reported as undefined and dropped by the caller.
  }
  return undefined;
}
