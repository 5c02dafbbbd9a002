import { isPossiblePhoneNumber, parsePhoneNumberWithError } from 'libphonenumber-js';
import { z } from 'zod';
import { ValidationError, type FieldError } from './errors';
import type { NotifyTargets } from './request';

const E164 = /^\+[1-9]\d{1,14}$/;

/**
 * Checks who a request's end is announced to: an E.164 phone number whose length fits its
 * country's numbering plan (libphonenumber-js "possible", not "valid": reserved fiction ranges
 * such as +1 555 01xx must pass so that tests and demos can use them), and an email address by
 * zod's strict email rule. Every bad field is named.
 */
export function validateNotifyTargets(targets: { sms?: string; email?: string }): NotifyTargets {
  const errors: FieldError[] = [];
  if (targets.sms !== undefined && !(E164.test(targets.sms) && isPossiblePhoneNumber(targets.sms))) {
    errors.push({ path: '/notify/sms', message: 'must be a valid phone number in E.164 form, e.g. +15551234567' });
  }
  if (targets.email !== undefined && !z.email().safeParse(targets.email).success) {
    errors.push({ path: '/notify/email', message: 'must be a valid email address' });
  }
  if (errors.length > 0) throw new ValidationError(`The notify targets are invalid: ${errors.map((e) => e.path).join(', ')}`, errors);
  return {
    ...(targets.sms !== undefined ? { sms: parsePhoneNumberWithError(targets.sms).number } : {}),
    ...(targets.email !== undefined ? { email: targets.email.toLowerCase() } : {}),
  };
}
