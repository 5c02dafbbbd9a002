import { type OperationsEventType } from './notification-templates';
import { type NotificationChannel } from './notification';
import { type NotifierDependencies } from './notifier';
import { type OperationsContacts } from './ports';

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
