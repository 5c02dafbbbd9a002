import {
  AccountSuspendedException,
  BadRequestException,
  MailFromDomainNotVerifiedException,
  MessageRejected,
  NotFoundException,
  SendEmailCommand,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import type { EmailSender } from '../core/notifications/ports';
import type { EmailMessage } from '../core/notifications/notification-templates';
import { NotificationRejectedError } from '../core/notifications/notification-errors';

let client: SESv2Client | undefined;

/** One client per process, made on first use: only the functions that mail requesters load it. */
function sesClient(): SESv2Client {
  client ??= new SESv2Client({});
  return client;
}

/**
 * Request emails with SES v2 `SendEmail`, one call per message, from the operator's verified
 * sender identity. SES refusing the message itself (a rejected or malformed message, an address
 * or identity it does not know, a suspended account) is final and recorded; anything else
 * (throttling, a paused account, an outage) is left to the retry.
 */
export class SesEmailSender implements EmailSender {
  constructor(
    private readonly fromAddress: string,
    private readonly ses: Pick<SESv2Client, 'send'> = sesClient(),
  ) {}

  async send(message: { readonly to: string; readonly email: EmailMessage }): Promise<void> {
    try {
      await this.ses.send(
        new SendEmailCommand({
          FromEmailAddress: this.fromAddress,
          Destination: { ToAddresses: [message.to] },
          Content: {
            Simple: {
              Subject: { Data: message.email.subject, Charset: 'UTF-8' },
              Body: { Text: { Data: message.email.text, Charset: 'UTF-8' } },
            },
          },
        }),
      );
    } catch (error) {
      throw translateSesError(error);
    }
  }
}

export function translateSesError(error: unknown): unknown {
  if (
    error instanceof MessageRejected ||
    error instanceof BadRequestException ||
    error instanceof NotFoundException ||
    error instanceof MailFromDomainNotVerifiedException ||
    error instanceof AccountSuspendedException
  ) {
    return new NotificationRejectedError(`SES refused the email: ${(error as Error).message}`, { cause: error });
  }
  return error;
}
