import { createHash } from 'node:crypto';
import { endpointDisabledEmail, endpointDisabledSms, operationsFailedEmail, operationsFailedSms, requestEmail, requestSms, type EmailMessage, type NotificationEventType, type OperationsEventType } from './notification-templates';
import { smsDay, type MerchantQuotas } from '../merchants/merchant-quotas';
import type { EndpointDisabledNotice } from '../merchants/ports';
import type { HeraldRequest } from '../requests/request';
import { NotificationRejectedError, SubscriptionGoneError } from './notification-errors';
import { ENDPOINT_NOTICE_DEDUPE_SECONDS, NOTIFICATION_MAX_ATTEMPTS, maskEmail, maskPhoneNumber, scrubReason } from './notification-view';
import { type NotificationAudience, type NotificationChannel, type NotificationSlot } from './notification';
import { type NotificationLedger, type NotificationTopic, type OperationsContacts, type OperationsContactsStore, type RecipientSubscriptions, type EmailSender, type SmsSender } from './ports';

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
