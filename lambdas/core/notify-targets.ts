import { isPossiblePhoneNumber, parsePhoneNumberWithError } from 'libphonenumber-js';
import * as z from 'zod';
import { ValidationError, type FieldError } from './errors';
import type { NotifyTargets } from './request';
import { OPERATIONS_EVENT_TYPES } from './notification-templates';
import type { OperationsContactsInput } from './notifications';

const E164 = /^\+[1-9]\d{1,14}$/;

/**
 * Checks who a request's end is announced to: an E.164 phone number whose length fits its
 * country's numbering plan (libphonenumber-js "possible", not "valid": reserved fiction ranges
 * such as +1 555 01xx must pass so that tests and demos can use them), and an email address by
 * zod's strict email rule. Every bad field is named.
 */
export function validateNotifyTargets(targets: { sms?: string; email?: string }): NotifyTargets {
  const errors = contactErrors(targets, '/notify');
  if (errors.length > 0) throw new ValidationError(`The notify targets are invalid: ${errors.map((e) => e.path).join(', ')}`, errors);
  return normalizedContacts(targets);
}

function contactErrors(targets: { sms?: unknown; email?: unknown }, prefix: string): FieldError[] {
  const errors: FieldError[] = [];
  const { sms, email } = targets;
  if (sms !== undefined && !(typeof sms === 'string' && E164.test(sms) && isPossiblePhoneNumber(sms))) {
    errors.push({ path: `${prefix}/sms`, message: 'must be a valid phone number in E.164 form, e.g. +15551234567' });
  }
  if (email !== undefined && !z.email().safeParse(email).success) {
    errors.push({ path: `${prefix}/email`, message: 'must be a valid email address' });
  }
  return errors;
}

function normalizedContacts(targets: { sms?: string; email?: string }): NotifyTargets {
  return {
    ...(targets.sms !== undefined ? { sms: parsePhoneNumberWithError(targets.sms).number } : {}),
    ...(targets.email !== undefined ? { email: targets.email.toLowerCase() } : {}),
  };
}

const operationsContactsSchema = z.strictObject({
  email: z.unknown().optional(),
  sms: z.unknown().optional(),
  events: z.array(z.enum(OPERATIONS_EVENT_TYPES)).max(OPERATIONS_EVENT_TYPES.length * 2),
});

/**
 * Checks the body of `PUT /v1/notifications`: the same phone and email rules as `notify`, and
 * event names Herald knows. Every bad field is named.
 */
export function validateOperationsContacts(body: unknown): OperationsContactsInput {
  const parsed = operationsContactsSchema.safeParse(body);
  const errors: FieldError[] = parsed.success
    ? []
    : parsed.error.issues.map((issue) => ({ path: `/${issue.path.map(String).join('/')}`, message: issue.message }));
  const raw = (body && typeof body === 'object' ? body : {}) as { sms?: unknown; email?: unknown };
  errors.push(...contactErrors(raw, ''));
  if (!parsed.success || errors.length > 0) {
    throw new ValidationError(`The notification settings are invalid: ${errors.map((e) => e.path).join(', ')}`, errors);
  }
  return { ...normalizedContacts(raw as { sms?: string; email?: string }), events: parsed.data.events };
}
