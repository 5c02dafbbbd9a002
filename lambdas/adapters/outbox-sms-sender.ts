import { NotificationRejectedError } from '../core/notifications/notification-errors';
import { type SmsSender } from '../core/notifications/ports';

/**
 * Hands each SMS to an outbox over HTTP instead of SNS: what the local runtime gives the
 * notifier, because SMS cannot leave this machine (and its SNS emulator has no SMS). The outbox
 * records the message and answers 202; a 4xx means it refused the message for good.
 */
export class OutboxSmsSender implements SmsSender {
  constructor(private readonly outboxUrl: string) {}

  async send(message: { readonly to: string; readonly text: string }): Promise<void> {
    const response = await fetch(this.outboxUrl, {
      method: 'POST',
      // The outbox takes posts only from its own origin, which no web page elsewhere can claim.
      headers: { 'content-type': 'application/json', origin: new URL(this.outboxUrl).origin },
      body: JSON.stringify({ to: message.to, text: message.text, attributes: { 'AWS.SNS.SMS.SMSType': 'Transactional' } }),
      signal: AbortSignal.timeout(5_000),
    });
    if (response.status >= 400 && response.status < 500) {
      throw new NotificationRejectedError(`The outbox refused the SMS: HTTP ${response.status}`);
    }
    if (!response.ok) throw new Error(`The outbox answered HTTP ${response.status}`);
  }
}
