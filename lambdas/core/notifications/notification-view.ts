import { createHash } from 'node:crypto';
import type { HeraldRequest } from '../requests/request';
import { type NotificationChannel, type NotificationRecord } from './notification';

/** Attempts per notification before its failure is final; each retry is a redelivery of the worker's message. */
export const NOTIFICATION_MAX_ATTEMPTS = 5;
/** How long a disabled-endpoint notice suppresses an identical one (the same endpoint, reason and errors). */
export const ENDPOINT_NOTICE_DEDUPE_SECONDS = 24 * 3600;

/**
 * `+15551234567` → `+*******4567`: enough to recognise a number in a log or a status, not to dial it.
 *
 * @example maskPhoneNumber('+447700900123') === '+********0123'
 */
export function maskPhoneNumber(number: string): string {
  const digits = number.replace(/^\+/, '');
  return `+${'*'.repeat(Math.max(digits.length - 4, 0))}${digits.slice(-4)}`;
}

/** `alice@example.com` → `a***@example.com`. */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 1) return '***';
  return `${address[0]}***${address.slice(at)}`;
}

/** Masks a recipient of either channel: a phone number for `sms`, an address for `email`. */
export function maskRecipient(channel: NotificationChannel, to: string): string {
  return channel === 'sms' ? maskPhoneNumber(to) : maskEmail(to);
}

/** Error texts from SNS can quote the number or address: keep them out of the ledger and the logs. */
export function scrubReason(reason: string): string {
  return reason
    .replace(/\+?\d[\d\s-]{5,}\d/g, (number) => maskPhoneNumber(number.replace(/[\s-]/g, '')))
    .replace(/[^\s@"'<>]+@[^\s@"'<>]+\.[^\s@"'<>]+/g, maskEmail)
    .slice(0, 300);
}

/** What a client sees of a request's notifications in its status: the record without its internals. */
export type NotificationView = Pick<
  NotificationRecord,
  'audience' | 'channel' | 'event' | 'to' | 'state' | 'reason' | 'attempts' | 'updatedAt'
>;

/** The client's view of a request's notification records: states and masked recipients, nothing internal. */
export function presentNotifications(records: readonly NotificationRecord[]): NotificationView[] {
  return records.map((record) => ({
    audience: record.audience,
    channel: record.channel,
    event: record.event,
    to: record.to,
    state: record.state,
    ...(record.reason ? { reason: record.reason } : {}),
    attempts: record.attempts,
    updatedAt: record.updatedAt,
  }));
}

/**
 * A request's ETag extended by its notification states: a notification that changes after the
 * request's last write must still change what a conditional poll sees.
 *
 * @example withNotificationsTag('"req_1.v4"', []) === '"req_1.v4"'
 */
export function withNotificationsTag(etag: string, records: readonly NotificationRecord[]): string {
  if (records.length === 0) return etag;
  const states = records.map((r) => `${r.audience}:${r.channel}:${r.event}:${r.state}:${r.attempts}`).sort().join('|');
  return etag.replace(/"$/, `.n${createHash('sha256').update(states).digest('base64url').slice(0, 8)}"`);
}

/** Whether a request might have notifications: only then does its status read the ledger. */
export function mayHaveNotifications(request: Pick<HeraldRequest, 'notify' | 'status'>): boolean {
  return Boolean(request.notify?.sms || request.notify?.email) || request.status === 'failed';
}
