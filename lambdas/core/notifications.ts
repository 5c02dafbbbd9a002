import { createHash } from 'node:crypto';
import { HeraldError } from './errors';
import type { EmailSender } from './email-sender';
import {
  endpointDisabledEmail,
  endpointDisabledSms,
  operationsFailedEmail,
  operationsFailedSms,
  requestEmail,
  requestSms,
  type EmailMessage,
  type NotificationEventType,
  type OperationsEventType,
} from './notification-templates';
import { smsDay, type MerchantQuotas } from './merchant-quotas';
import type { EndpointDisabledNotice } from './ports';
import type { HeraldRequest } from './request';

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

/** The notification slots; see the adapter for the conditional writes. */
export interface NotificationLedger {
  /**
   * Claims a slot: true when it is new, or when its last attempt failed with a retryable error
   * and fewer than `maxAttempts` attempts were made. Anything else (sent, pending, being sent
   * right now, finally failed) is left alone.
   */
  begin(slot: NotificationSlot, to: string, options: { maxAttempts: number; expiresAt?: number }, now: Date): Promise<BeginOutcome>;
  finish(slot: NotificationSlot, attempt: number, outcome: { state: NotificationState; reason?: string; retryable?: boolean }, now: Date): Promise<void>;
  listForRequest(requestId: string): Promise<NotificationRecord[]>;
}

export interface SmsSender {
  /** Sends one transactional SMS to an E.164 number. */
  send(message: { readonly to: string; readonly text: string }): Promise<void>;
}

/** The notifications topic: email recipients and operations contacts are its subscribers. */
export interface NotificationTopic {
  /** Subscribes an address with a filter on the `recipient` attribute; SNS mails it a confirmation link. */
  subscribeRecipient(address: string): Promise<string>;
  /** Whether the subscriber confirmed; throws `SubscriptionGoneError` when it unsubscribed. */
  isConfirmed(subscriptionArn: string): Promise<boolean>;
  publishToRecipient(address: string, event: NotificationEventType, message: EmailMessage): Promise<void>;
  publishToOperations(merchantId: string, event: OperationsEventType, channel: NotificationChannel, message: { subject?: string; text: string }): Promise<void>;
  subscribeOperations(merchantId: string, channel: NotificationChannel, endpoint: string, events: readonly OperationsEventType[]): Promise<string>;
  setOperationsEvents(subscriptionArn: string, merchantId: string, channel: NotificationChannel, events: readonly OperationsEventType[]): Promise<void>;
  /** Takes a merchant's notices off a subscription, and the subscription off the topic once nothing else uses it. */
  removeOperations(subscriptionArn: string, merchantId: string, channel: NotificationChannel): Promise<void>;
}

export interface RecipientSubscription {
  readonly address: string;
  readonly subscriptionArn: string;
  readonly confirmed: boolean;
}

/** Which email addresses the topic already has as subscribers, so each is subscribed once. */
export interface RecipientSubscriptions {
  get(address: string): Promise<RecipientSubscription | undefined>;
  put(subscription: RecipientSubscription, now: Date): Promise<void>;
}

export interface OperationsContacts {
  readonly merchantId: string;
  readonly email?: string;
  readonly sms?: string;
  readonly events: readonly OperationsEventType[];
  readonly subscriptions: Partial<Record<NotificationChannel, string>>;
  readonly updatedAt: string;
}

export interface OperationsContactsStore {
  get(merchantId: string): Promise<OperationsContacts | undefined>;
  put(contacts: OperationsContacts): Promise<void>;
}

/**
 * A notification refused for good: by SNS (an invalid or opted-out number, say), or by the
 * merchant's SMS quota of the day. Retrying cannot help.
 */
export class NotificationRejectedError extends HeraldError {
  override readonly name = 'NotificationRejectedError';

  constructor(detail: string, options?: ErrorOptions) {
    super('notification-rejected', detail, options);
  }
}

/**
 * The subscription no longer exists: the person unsubscribed through the link in a message. An
 * internal signal between the topic adapter and the notifier (which subscribes the address
 * again), never an answer to a client, so not a `HeraldError`.
 */
export class SubscriptionGoneError extends Error {
  override readonly name = 'SubscriptionGoneError';

  constructor(readonly subscriptionArn: string) {
    super(`Subscription ${subscriptionArn} no longer exists`);
  }
}

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

/**
 * The merchant's SMS of the day, the same count submit takes a `notify.sms` request from: an SMS
 * to its operations contacts takes one too, so `maxSmsPerDay` bounds every SMS Herald sends for
 * the merchant, not only those its requests ask for.
 */
export interface SmsQuota {
  readonly store: Pick<MerchantQuotas, 'reserveSms' | 'returnSms'>;
  /** Read at each send, so a changed setting applies to the next SMS; undefined counts nothing. */
  perDay(): number | undefined;
}

export interface NotifierDependencies {
  readonly ledger: NotificationLedger;
  readonly sms: SmsSender;
  /** Set when the operator enabled direct email: request emails go through it, never through a topic subscription. */
  readonly email?: EmailSender;
  readonly smsQuota?: SmsQuota;
  readonly topic: NotificationTopic;
  readonly recipients: RecipientSubscriptions;
  readonly contacts: OperationsContactsStore;
  readonly maxAttempts?: number;
  readonly now?: () => Date;
  readonly log?: (message: string, extra?: Record<string, unknown>) => void;
}

interface Job {
  readonly slot: NotificationSlot;
  /** The recipient, masked, as the ledger records it. */
  readonly to: string;
  readonly expiresAt?: number;
  /** Sends and says which state that leaves the notification in. */
  readonly send: () => Promise<'sent' | 'pending_confirmation'>;
}

/**
 * Tells the person behind a finished request (by SMS and/or email, as `notify` asked) and, when it
 * failed and the merchant opted in, the merchant's operations contacts. Idempotent per (request,
 * audience, channel, event). Channels run side by side; a transient failure of one is rethrown
 * after all have run, so the message is retried and only the failed one is sent again.
 *
 * @example await notifyRequestFinished(deps, finishedRequest) // called by the worker's fan-out
 */
export async function notifyRequestFinished(deps: NotifierDependencies, request: HeraldRequest): Promise<void> {
  const event: NotificationEventType | undefined =
    request.status === 'succeeded' ? 'request.succeeded' : request.status === 'failed' ? 'request.failed' : undefined;
  if (!event) return;
  const slot = (audience: NotificationAudience, channel: NotificationChannel): NotificationSlot => ({
    scope: 'request',
    subjectId: request.id,
    audience,
    channel,
    event,
  });
  const jobs: Job[] = [];
  const { sms, email } = request.notify ?? {};
  if (sms) {
    jobs.push({
      slot: slot('requester', 'sms'),
      to: maskPhoneNumber(sms),
      send: async () => {
        await deps.sms.send({ to: sms, text: requestSms(request) });
        return 'sent';
      },
    });
  }
  if (email) {
    jobs.push({
      slot: slot('requester', 'email'),
      to: maskEmail(email),
      send: async () => {
        if (deps.email) {
          await deps.email.send({ to: email, email: requestEmail(request) });
          return 'sent';
        }
        const confirmed = await ensureRecipient(deps, email);
        // Published even while unconfirmed: SNS drops it for now, and the status says why.
        await deps.topic.publishToRecipient(email, event, requestEmail(request));
        return confirmed ? 'sent' : 'pending_confirmation';
      },
    });
  }
  if (event === 'request.failed') {
    const contacts = await deps.contacts.get(request.merchantId);
    if (contacts?.events.includes('request.failed')) {
      jobs.push(...operationsJobs(deps, contacts, slot('operations', 'email'), 'request.failed', {
        email: operationsFailedEmail(request),
        sms: operationsFailedSms(request),
      }));
    }
  }
  await runJobs(deps, jobs);
}

/**
 * Tells a merchant's operations contacts that Herald disabled one of its webhook endpoints, with
 * the reason, the last errors and how to re-enable it. Always sent (contacts cannot opt out of
 * it); the same notice for the same endpoint is sent once a day at most.
 */
export async function notifyEndpointDisabled(deps: NotifierDependencies, notice: EndpointDisabledNotice): Promise<void> {
  const contacts = await deps.contacts.get(notice.merchantId);
  if (!contacts || (!contacts.email && !contacts.sms)) {
    deps.log?.('No operations contacts to tell about a disabled endpoint', { merchantId: notice.merchantId, endpointId: notice.endpointId });
    return;
  }
  // One notice per disabling (its time names it; the errors quoted may differ between two calls);
  // without the time, the same reason and errors within a day count as the same notice.
  const fingerprint = createHash('sha256')
    .update(JSON.stringify(notice.disabledAt ? [notice.disabledAt, notice.reason] : [notice.reason, notice.lastErrors ?? []]))
    .digest('hex')
    .slice(0, 12);
  const now = (deps.now ?? (() => new Date()))();
  const slot: NotificationSlot = {
    scope: 'merchant',
    subjectId: notice.merchantId,
    audience: 'operations',
    channel: 'email',
    event: 'webhook.endpoint_disabled',
    discriminator: `${notice.endpointId}#${fingerprint}`,
  };
  const jobs = operationsJobs(deps, contacts, slot, 'webhook.endpoint_disabled', {
    email: endpointDisabledEmail(notice),
    sms: endpointDisabledSms(notice),
  }).map((job) => ({ ...job, expiresAt: Math.floor(now.getTime() / 1000) + ENDPOINT_NOTICE_DEDUPE_SECONDS }));
  await runJobs(deps, jobs);
}

function operationsJobs(
  deps: NotifierDependencies,
  contacts: OperationsContacts,
  emailSlot: NotificationSlot,
  event: OperationsEventType,
  messages: { email: EmailMessage; sms: string },
): Job[] {
  const jobs: Job[] = [];
  if (contacts.email) {
    jobs.push({
      slot: { ...emailSlot, channel: 'email' },
      to: maskEmail(contacts.email),
      send: async () => {
        await deps.topic.publishToOperations(contacts.merchantId, event, 'email', messages.email);
        return 'sent';
      },
    });
  }
  if (contacts.sms) {
    jobs.push({
      slot: { ...emailSlot, channel: 'sms' },
      to: maskPhoneNumber(contacts.sms),
      send: () => withinSmsQuota(deps, contacts.merchantId, () => deps.topic.publishToOperations(contacts.merchantId, event, 'sms', { text: messages.sms })),
    });
  }
  return jobs;
}

/**
 * Sends one SMS on the merchant's count of the day, or refuses it for good once the count is
 * used up (the ledger records why). A send that fails gives its SMS back, so the retry counts once.
 */
async function withinSmsQuota(deps: NotifierDependencies, merchantId: string, send: () => Promise<void>): Promise<'sent'> {
  const limit = deps.smsQuota?.perDay();
  if (!deps.smsQuota || limit === undefined) {
    await send();
    return 'sent';
  }
  const now = (deps.now ?? (() => new Date()))();
  const { day } = smsDay(now);
  if (!(await deps.smsQuota.store.reserveSms(merchantId, day, limit, now))) {
    throw new NotificationRejectedError(`The merchant has used its ${limit} SMS of today (UTC); none is sent until midnight UTC`);
  }
  try {
    await send();
  } catch (error) {
    await deps.smsQuota.store.returnSms(merchantId, day).catch(() => undefined);
    throw error;
  }
  return 'sent';
}

/** Subscribes an address the first time it is used; afterwards only asks whether it has confirmed yet. */
async function ensureRecipient(deps: NotifierDependencies, address: string): Promise<boolean> {
  const now = (deps.now ?? (() => new Date()))();
  const known = await deps.recipients.get(address);
  if (known?.confirmed) return true;
  if (known) {
    try {
      const confirmed = await deps.topic.isConfirmed(known.subscriptionArn);
      if (confirmed) await deps.recipients.put({ ...known, confirmed }, now);
      return confirmed;
    } catch (error) {
      // Unsubscribed since: giving the address again on a request subscribes it again.
      if (!(error instanceof SubscriptionGoneError)) throw error;
    }
  }
  // SNS answers a repeated Subscribe with the same subscription, so a lost race costs a call, not a second mail.
  const subscriptionArn = await deps.topic.subscribeRecipient(address);
  const confirmed = await deps.topic.isConfirmed(subscriptionArn);
  await deps.recipients.put({ address, subscriptionArn, confirmed }, now);
  return confirmed;
}

async function runJobs(deps: NotifierDependencies, jobs: readonly Job[]): Promise<void> {
  const maxAttempts = deps.maxAttempts ?? NOTIFICATION_MAX_ATTEMPTS;
  const now = deps.now ?? (() => new Date());
  const results = await Promise.allSettled(
    jobs.map(async (job) => {
      const claim = await deps.ledger.begin(job.slot, job.to, { maxAttempts, ...(job.expiresAt ? { expiresAt: job.expiresAt } : {}) }, now());
      if (!claim.send) return;
      try {
        const state = await job.send();
        await deps.ledger.finish(job.slot, claim.attempt, { state }, now());
      } catch (error) {
        const rejected = error instanceof NotificationRejectedError;
        const retryable = !rejected && claim.attempt < maxAttempts;
        const reason = scrubReason((error as Error).message ?? String(error));
        await deps.ledger.finish(job.slot, claim.attempt, { state: 'failed', reason, retryable }, now());
        deps.log?.('Notification failed', { ...job.slot, to: job.to, attempt: claim.attempt, retryable, reason });
        if (retryable) throw error;
      }
    }),
  );
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}

/** What `PUT /v1/notifications` asks for, validated. */
export interface OperationsContactsInput {
  readonly email?: string;
  readonly sms?: string;
  readonly events: readonly OperationsEventType[];
}

export interface OperationsContactsView {
  readonly email?: string;
  readonly sms?: string;
  readonly events: readonly OperationsEventType[];
  /** Per channel: `pending_confirmation` until the address follows the link SNS mailed it. */
  readonly subscriptions: Partial<Record<NotificationChannel, 'confirmed' | 'pending_confirmation'>>;
  readonly updatedAt: string;
}

/**
 * Sets a merchant's operations contacts: each address is a subscriber of the topic whose filter
 * policy admits only this merchant's notices of the chosen events (`webhook.endpoint_disabled`
 * always). A changed address replaces its subscription; changed events only rewrite the policy.
 */
export async function setOperationsContacts(
  deps: Pick<NotifierDependencies, 'topic' | 'contacts' | 'now'>,
  merchantId: string,
  input: OperationsContactsInput,
): Promise<OperationsContactsView> {
  const previous = await deps.contacts.get(merchantId);
  const events = [...new Set<OperationsEventType>([...input.events, 'webhook.endpoint_disabled'])].sort();
  const subscriptions: Partial<Record<NotificationChannel, string>> = {};
  const states: Partial<Record<NotificationChannel, 'confirmed' | 'pending_confirmation'>> = {};
  for (const channel of ['email', 'sms'] as const) {
    const address = input[channel];
    const before = previous?.[channel];
    const beforeArn = previous?.subscriptions[channel];
    if (beforeArn && before !== address) await deps.topic.removeOperations(beforeArn, merchantId, channel);
    if (!address) continue;
    let arn: string;
    if (beforeArn && before === address) {
      await deps.topic.setOperationsEvents(beforeArn, merchantId, channel, events);
      arn = beforeArn;
    } else {
      arn = await deps.topic.subscribeOperations(merchantId, channel, address, events);
    }
    subscriptions[channel] = arn;
    states[channel] = (await deps.topic.isConfirmed(arn)) ? 'confirmed' : 'pending_confirmation';
  }
  const contacts: OperationsContacts = {
    merchantId,
    ...(input.email ? { email: input.email } : {}),
    ...(input.sms ? { sms: input.sms } : {}),
    events,
    subscriptions,
    updatedAt: ((deps.now ?? (() => new Date()))()).toISOString(),
  };
  await deps.contacts.put(contacts);
  return {
    ...(contacts.email ? { email: contacts.email } : {}),
    ...(contacts.sms ? { sms: contacts.sms } : {}),
    events,
    subscriptions: states,
    updatedAt: contacts.updatedAt,
  };
}
