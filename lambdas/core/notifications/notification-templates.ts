import type { EndpointDisabledNotice } from '../merchants/ports';
import type { HeraldRequest } from '../requests/request';

/**
 * The words Herald sends by SMS and email, one small template per event type. An SMS names the
 * request id, its type and its status and nothing else: it travels through carriers and sits on
 * lock screens, so no payload, result or error text goes into it. It stays within one GSM-7
 * segment (160 characters); longer texts are split and billed per segment, and characters
 * outside GSM-7 switch the whole message to UCS-2 (70 characters a segment).
 */

export const SMS_MAX_GSM7_LENGTH = 160;

export type NotificationEventType = 'request.succeeded' | 'request.failed' | 'webhook.endpoint_disabled';

/** The events a merchant's operations contacts can subscribe to; `webhook.endpoint_disabled` is always on. */
export const OPERATIONS_EVENT_TYPES = ['request.failed', 'webhook.endpoint_disabled'] as const;
export type OperationsEventType = (typeof OPERATIONS_EVENT_TYPES)[number];

export interface EmailMessage {
  readonly subject: string;
  readonly text: string;
}

// The GSM 03.38 basic set, and the extension set whose characters take two septets (escape + char).
const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENDED = '^{}\\[~]|€\f';

/**
 * The length of `text` in GSM-7 septets, or undefined when a character has no GSM-7 form (the
 * message would be sent as UCS-2).
 *
 * @example gsm7Length('Done €5') === 8 // the euro sign takes two septets
 */
export function gsm7Length(text: string): number | undefined {
  let length = 0;
  for (const char of text) {
    if (GSM7_BASIC.includes(char)) length += 1;
    else if (GSM7_EXTENDED.includes(char)) length += 2;
    else return undefined;
  }
  return length;
}

/** True when `text` is GSM-7 and fits one SMS segment. */
export function fitsOneSms(text: string): boolean {
  const length = gsm7Length(text);
  return length !== undefined && length <= SMS_MAX_GSM7_LENGTH;
}

/**
 * Makes a value safe for an SMS: characters outside GSM-7 become `?` and the value is cut to
 * `max` septets. Request types are chosen by the operator, so they are not trusted to fit.
 */
function gsm7Safe(value: string, max: number): string {
  let out = '';
  for (const char of value) {
    const next = out + (gsm7Length(char) === undefined ? '?' : char);
    if ((gsm7Length(next) ?? Infinity) > max) return out.slice(0, Math.max(0, out.length - 1)) + '.';
    out = next;
  }
  return out;
}

function statusWord(request: Pick<HeraldRequest, 'status'>): string {
  return request.status === 'succeeded' ? 'succeeded' : request.status === 'failed' ? 'failed' : request.status;
}

/**
 * The SMS telling the person behind a request that it ended.
 *
 * @example requestSms({ id: 'req_01j…', type: 'order.process', status: 'succeeded' })
 *   === 'Herald: request req_01j… (order.process) succeeded.'
 */
export function requestSms(request: Pick<HeraldRequest, 'id' | 'type' | 'status'>): string {
  const head = `Herald: request ${request.id} (`;
  const tail = `) ${statusWord(request)}.`;
  const room = SMS_MAX_GSM7_LENGTH - (gsm7Length(head + tail) ?? SMS_MAX_GSM7_LENGTH);
  return head + gsm7Safe(request.type, Math.max(room, 0)) + tail;
}

/** The email telling the person behind a request that it ended: a little more context, still no payload or result. */
export function requestEmail(request: Pick<HeraldRequest, 'id' | 'type' | 'status' | 'error' | 'updatedAt'>): EmailMessage {
  const lines = [
    `Your request ${request.id} (${request.type}) ${statusWord(request)} at ${request.updatedAt}.`,
    ...(request.status === 'failed' && request.error ? ['', `Reason: ${request.error.code}`] : []),
    '',
    'You receive this message because your address was given when the request was made.',
  ];
  return { subject: `Request ${request.id} ${statusWord(request)}`, text: lines.join('\n') };
}

/** The SMS to a merchant's operations contacts when one of its requests failed. */
export function operationsFailedSms(request: Pick<HeraldRequest, 'id' | 'type' | 'status'>): string {
  const head = `Herald: request ${request.id} (`;
  const tail = ') failed. Details in the Herald API.';
  const room = SMS_MAX_GSM7_LENGTH - (gsm7Length(head + tail) ?? SMS_MAX_GSM7_LENGTH);
  return head + gsm7Safe(request.type, Math.max(room, 0)) + tail;
}

/** The email to a merchant's operations contacts when one of its requests failed. */
export function operationsFailedEmail(request: Pick<HeraldRequest, 'id' | 'type' | 'error' | 'updatedAt' | 'attempts'>): EmailMessage {
  return {
    subject: `Herald: request ${request.id} failed`,
    text: [
      `Request ${request.id} (${request.type}) failed at ${request.updatedAt} after ${request.attempts} attempt(s).`,
      ...(request.error ? [`Error: ${request.error.code}: ${request.error.message}`] : []),
      '',
      `Details: GET /v1/requests/${request.id}`,
    ].join('\n'),
  };
}

/** The SMS to a merchant's operations contacts when Herald disabled one of its webhook endpoints. */
export function endpointDisabledSms(notice: Pick<EndpointDisabledNotice, 'endpointId'>): string {
  const text = `Herald: webhook endpoint ${notice.endpointId} was disabled after repeated failures. Details by email and in GET /v1/webhooks.`;
  return fitsOneSms(text) ? text : `Herald: webhook endpoint ${gsm7Safe(notice.endpointId, 60)} was disabled.`;
}

/** The email to a merchant's operations contacts when Herald disabled a webhook endpoint: what, why and how to re-enable it. */
export function endpointDisabledEmail(notice: EndpointDisabledNotice): EmailMessage {
  return {
    subject: `Herald: webhook endpoint ${notice.endpointId} disabled`,
    text: [
      `Herald disabled the webhook endpoint ${notice.endpointId} (${notice.url}).`,
      `Reason: ${notice.reason}`,
      ...(notice.disabledAt ? [`Disabled at: ${notice.disabledAt}`] : []),
      ...(notice.lastErrors?.length ? ['', 'Last errors:', ...notice.lastErrors.map((error) => `- ${error}`)] : []),
      '',
      'Events are no longer sent to it. When the receiver works again, re-enable it with',
      `PATCH /v1/webhooks/${notice.endpointId} {"disabled": false}, and send what it missed with`,
      `POST /v1/webhooks/${notice.endpointId}/recover {"since": "<time>"}.`,
    ].join('\n'),
  };
}
