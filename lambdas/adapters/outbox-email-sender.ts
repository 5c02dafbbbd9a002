import type { EmailSender } from '../core/notifications/ports';
import type { EmailMessage } from '../core/notifications/notification-templates';
import { NotificationRejectedError } from '../core/notifications/notification-errors';

/**
 * Hands each direct email to the local outbox over HTTP instead of SES, which the local runtime
 * has no emulator for and which must not mail anyone from a developer's machine. The outbox
 * records the message and answers 202; a 4xx means it refused the message for good.
 */
export class OutboxEmailSender implements EmailSender {
  constructor(
    private readonly outboxUrl: string,
    private readonly fromAddress: string,
  ) {}

  async send(message: { readonly to: string; readonly email: EmailMessage }): Promise<void> {
    const response = await fetch(this.outboxUrl, {
      method: 'POST',
      // The outbox takes posts only from its own origin, which no web page elsewhere can claim.
      headers: { 'content-type': 'application/json', origin: new URL(this.outboxUrl).origin },
      body: JSON.stringify({ from: this.fromAddress, to: message.to, subject: message.email.subject, text: message.email.text }),
      signal: AbortSignal.timeout(5_000),
    });
    if (response.status >= 400 && response.status < 500) {
      throw new NotificationRejectedError(`The outbox refused the email: HTTP ${response.status}`);
    }
    if (!response.ok) throw new Error(`The outbox answered HTTP ${response.status}`);
  }
}
