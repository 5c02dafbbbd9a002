import { type WebhookEventType } from './endpoint';
import type { OrderingTicket } from './delivery-order';

/** What travels on the deliveries queue: which delivery, which round, and the body when it fits. */
export interface DeliveryMessage {
  readonly deliveryId: string;
  readonly merchantId: string;
  readonly endpointId: string;
  readonly subjectId: string;
  readonly eventType: WebhookEventType;
  readonly eventTimestamp: string;
  readonly round: number;
  /** The signed body; absent when too large for a message, then rebuilt from the request. */
  readonly payload?: string;
  readonly traceId?: string;
  /**
   * Attempts this round made on earlier messages: set when an open circuit or the endpoint's rate
   * limit put the delivery on a new message, whose receive count starts again at 1. The attempt
   * number is this plus the receive count, so a skip or a wait spends none of the attempts before
   * the DLQ.
   */
  readonly attemptsBefore?: number;
  /** When the attempt began waiting for the rate limit, across messages. */
  readonly waitingSince?: string;
  /** The message is to be received no earlier than this (SQS DelaySeconds, at most 15 minutes). */
  readonly notBefore?: string;
  /** Set by the queue on every send, checked by the worker before anything else (delivery-message-seal.ts). */
  readonly seal?: string;
  /** The request's place in its ordering key: the delivery goes only once those ahead of it ended. */
  readonly ordering?: OrderingTicket;
  /** When the delivery first found one ahead of it, across messages: its wait is bounded from then. */
  readonly orderWaitSince?: string;
  /** Names a wake or a re-check of a delivery that waited for its key: the one that claims the delivery posts it. */
  readonly orderToken?: string;
}

/** Bodies above this stay out of the message (SQS takes 256 KiB with attributes); the worker rebuilds them. */
export const MAX_INLINE_PAYLOAD_BYTES = 200 * 1024;

export function parseDeliveryMessage(body: string): DeliveryMessage | undefined {
  try {
    const parsed = JSON.parse(body) as Partial<DeliveryMessage>;
    if (
      typeof parsed.deliveryId === 'string' &&
      typeof parsed.merchantId === 'string' &&
      typeof parsed.endpointId === 'string' &&
      typeof parsed.subjectId === 'string' &&
      typeof parsed.eventType === 'string' &&
      typeof parsed.eventTimestamp === 'string' &&
      typeof parsed.round === 'number' &&
      (parsed.attemptsBefore === undefined || (Number.isInteger(parsed.attemptsBefore) && parsed.attemptsBefore >= 0)) &&
      (parsed.ordering === undefined || (typeof parsed.ordering.key === 'string' && Number.isInteger(parsed.ordering.seq)))
    ) {
      return parsed as DeliveryMessage;
    }
  } catch {
    // Not ours: the caller drops it.
  }
  return undefined;
}
