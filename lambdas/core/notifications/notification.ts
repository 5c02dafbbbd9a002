import { type NotificationEventType } from './notification-templates';

/**
 * SMS and email notifications: who is told what when a request ends or a webhook endpoint is
 * disabled, and the ledger that makes each one happen once. Every notification has a slot, one
 * per (subject, audience, channel, event); a conditional write claims it before anything is sent,
 * so a redelivered message or a second worker finds it taken and sends nothing.
 */

export type NotificationChannel = 'sms' | 'email';
/** The person behind a request (`notify` on submit), or the merchant's operations contacts. */
export type NotificationAudience = 'requester' | 'operations';
/** `sending` lasts from the claim to the publish; it remains only if a worker died in between. */
export type NotificationState = 'sending' | 'sent' | 'pending_confirmation' | 'failed';

export interface NotificationSlot {
  /** A request (`req_…`) or, for endpoint notices, the merchant. */
  readonly scope: 'request' | 'merchant';
  readonly subjectId: string;
  readonly audience: NotificationAudience;
  readonly channel: NotificationChannel;
  readonly event: NotificationEventType;
  /** Tells apart notices of one event on one subject, e.g. the endpoint that was disabled. */
  readonly discriminator?: string;
}

export interface NotificationRecord {
  readonly audience: NotificationAudience;
  readonly channel: NotificationChannel;
  readonly event: NotificationEventType;
  /** Masked: the ledger never holds a full phone number or address. */
  readonly to: string;
  readonly state: NotificationState;
  readonly reason?: string;
  /** False once the failure is final: rejected by SNS, or out of attempts. */
  readonly retryable?: boolean;
  readonly attempts: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type BeginOutcome = { readonly send: true; readonly attempt: number } | { readonly send: false };
