import { isPossiblePhoneNumber as isPossibleWith, parsePhoneNumberWithError as parseWith, type MetadataJson, type PhoneNumber } from 'libphonenumber-js/core';
import { ValidationError, type FieldError } from '../shared/errors';
import * as z from '../shared/schema';
import type { NotifyTargets } from '../requests/request';
import { OPERATIONS_EVENT_TYPES } from './notification-templates';
import phoneMetadata from './phone-metadata.json';
import type { OperationsContactsInput } from './operations-contacts';

const E164 = /^\+[1-9]\d{1,14}$/;

// libphonenumber-js's `min` metadata without its formatting rules, which Herald never uses:
// 33 KB instead of 83 KB in every bundle that checks a number (scripts/phone-metadata.ts).
const metadata = phoneMetadata as unknown as MetadataJson;
const isPossiblePhoneNumber = (number: string): boolean => isPossibleWith(number, metadata);
const parsePhoneNumberWithError = (number: string): PhoneNumber => parseWith(number, metadata);

/**
 * The countries SMS may go to: the operator's list (ISO 3166 alpha-2), or every country (`all`,
 * the local runtime's default, where nothing leaves the machine). SMS pumping fraud sends texts
 * to premium ranges of far-away countries; a short list of the countries a business serves
 * shuts it out.
 */
export type SmsCountries = 'all' | ReadonlySet<string>;

/**
 * Parses `HERALD_SMS_ALLOWED_COUNTRIES`: `*` for every country, else comma-separated codes.
 * Unset or empty means no country at all: SMS are off unless an operator lists some.
 *
 * @example parseSmsCountries('us, CA') // Set { 'US', 'CA' }
 */
export function parseSmsCountries(raw: string | undefined): SmsCountries {
  if (raw?.trim() === '*') return 'all';
  return new Set(
    (raw ?? '')
      .split(',')
      .map((code) => code.trim().toUpperCase())
      .filter((code) => code !== ''),
  );
}

/**
 * Checks who a request's end is announced to: an E.164 phone number whose length fits its
 * country's numbering plan (libphonenumber-js "possible", not "valid": reserved fiction ranges
 * such as +1 555 01xx must pass so that tests and demos can use them) in a country the operator
 * allows SMS to, and an email address by zod's strict email rule. Every bad field is named.
 */
export function validateNotifyTargets(targets: { sms?: string; email?: string }, smsCountries: SmsCountries): NotifyTargets {
  const errors = contactErrors(targets, '/notify', smsCountries);
  if (errors.length > 0) throw new ValidationError(`The notify targets are invalid: ${errors.map((e) => e.path).join(', ')}`, errors);
  return normalizedContacts(targets);
}

const MAX_EMAIL_LENGTH = 254;

function contactErrors(targets: { sms?: unknown; email?: unknown }, prefix: string, smsCountries: SmsCountries): FieldError[] {
  const errors: FieldError[] = [];
  const { sms, email } = targets;
  if (sms !== undefined && !(typeof sms === 'string' && E164.test(sms) && isPossiblePhoneNumber(sms))) {
    errors.push({ path: `${prefix}/sms`, message: 'must be a valid phone number in E.164 form, e.g. +15551234567' });
  } else if (typeof sms === 'string') {
    const refusal = premiumRateRefusal(sms) ?? smsCountryRefusal(sms, smsCountries);
    if (refusal) errors.push({ path: `${prefix}/sms`, message: refusal });
  }
  // RFC 5321 caps a deliverable address at 254 characters; a longer one could only bloat the item.
  if (email !== undefined && !(typeof email === 'string' && email.length <= MAX_EMAIL_LENGTH && z.email().safeParse(email).success)) {
    errors.push({ path: `${prefix}/email`, message: `must be a valid email address of at most ${MAX_EMAIL_LENGTH} characters` });
  }
  return errors;
}

/**
 * A text to a premium-rate number earns its owner money on every message: the heart of SMS
 * pumping. Refused wherever it is, whatever countries the operator allows; the numbering plans
 * bundled here carry each country's premium-rate ranges.
 */
function premiumRateRefusal(number: string): string | undefined {
  if (parsePhoneNumberWithError(number).getType() !== 'PREMIUM_RATE') return undefined;
  return 'premium-rate numbers cannot receive SMS notifications';
}

/** Why an SMS to this number is not allowed, or undefined when it is. */
function smsCountryRefusal(number: string, allowed: SmsCountries): string | undefined {
  if (allowed === 'all') return undefined;
  if (allowed.size === 0) return 'SMS notifications are not enabled in this deployment';
  const listed = [...allowed].sort().join(', ');
  // Numbers shared by several countries (e.g. +1 555 …) have none: refused, since the bill is decided by the country.
  const country = parsePhoneNumberWithError(number).country;
  if (!country) return `the number's country cannot be determined; SMS go only to ${listed}`;
  if (!allowed.has(country)) return `SMS to country ${country} are not enabled; SMS go only to ${listed}`;
  return undefined;
}

function normalizedContacts(targets: { sms?: string; email?: string }): NotifyTargets {
  return {
    ...(targets.sms !== undefined ? { sms: parsePhoneNumberWithError(targets.sms).number } : {}),
    ...(targets.email !== undefined ? { email: targets.email.toLowerCase() } : {}),
  };
}

const operationsContactsSchema = z.strictObject({
  email: z.optional(z.unknown()),
  sms: z.optional(z.unknown()),
  events: z.array(z.enum(OPERATIONS_EVENT_TYPES)).check(z.maxLength(OPERATIONS_EVENT_TYPES.length * 2)),
});

/**
 * Checks the body of `PUT /v1/notifications`: the same phone and email rules as `notify`, and
 * event names Herald knows. Every bad field is named.
 */
export function validateOperationsContacts(body: unknown, smsCountries: SmsCountries): OperationsContactsInput {
  const parsed = operationsContactsSchema.safeParse(body);
  const errors: FieldError[] = parsed.success
    ? []
    : parsed.error.issues.map((issue) => ({ path: `/${issue.path.map(String).join('/')}`, message: issue.message }));
  const raw = (body && typeof body === 'object' ? body : {}) as { sms?: unknown; email?: unknown };
  errors.push(...contactErrors(raw, '', smsCountries));
  if (!parsed.success || errors.length > 0) {
    throw new ValidationError(`The notification settings are invalid: ${errors.map((e) => e.path).join(', ')}`, errors);
  }
  return { ...normalizedContacts(raw as { sms?: string; email?: string }), events: parsed.data.events };
}
