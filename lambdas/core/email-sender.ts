import type { EmailMessage } from './notification-templates';

/**
 * Sends one email straight to an address (SES `SendEmail` on AWS): the person behind a request
 * gets its message at once, with no subscription to confirm first, unlike the topic's subscribers.
 */
export interface EmailSender {
  send(message: { readonly to: string; readonly email: EmailMessage }): Promise<void>;
}
