import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { getCountryCallingCode, isPossiblePhoneNumber, parsePhoneNumberWithError, type CountryCode } from 'libphonenumber-js/min';
import examples from 'libphonenumber-js/examples.mobile.json';
import type { ValidationError } from '../../../../lambdas/core/shared/errors';
import { validateNotifyTargets } from '../../../../lambdas/core/notifications/notify-targets';
import { PHONE_METADATA_FILE, trimmedPhoneMetadata } from '../../../../scripts/phone-metadata';

/**
 * What Herald reads of a number, by libphonenumber-js with its full `min` metadata. A premium-rate
 * number counts as impossible: Herald refuses it as an SMS target wherever it is.
 */
function byFullMetadata(sms: string): { possible: boolean; country?: string; number?: string } {
  if (!/^\+[1-9]\d{1,14}$/.test(sms) || !isPossiblePhoneNumber(sms)) return { possible: false };
  const parsed = parsePhoneNumberWithError(sms);
  if (parsed.getType() === 'PREMIUM_RATE') return { possible: false };
  return { possible: true, ...(parsed.country ? { country: parsed.country } : {}), number: parsed.number };
}

/** The same, as notify-targets reads it with the trimmed metadata: the country is the one its refusal names. */
function byHerald(sms: string): { possible: boolean; country?: string; number?: string } {
  let number: string;
  try {
    number = validateNotifyTargets({ sms }, 'all').sms!;
  } catch {
    return { possible: false };
  }
  const refusal = refusalOf(() => validateNotifyTargets({ sms }, new Set(['ZZ'])));
  const country = /SMS to country ([A-Z]{2}) /.exec(refusal)?.[1];
  if (!country) expect(refusal).toMatch(/country cannot be determined/);
  return { possible: true, ...(country ? { country } : {}), number };
}

function refusalOf(validation: () => unknown): string {
  try {
    validation();
  } catch (error) {
    return (error as ValidationError).errors[0]!.message;
  }
  throw new Error('expected a refusal');
}

it('is libphonenumber-js min metadata without the formats, as scripts/phone-metadata.ts writes it', () => {
  expect(JSON.parse(readFileSync(PHONE_METADATA_FILE, 'utf8'))).toEqual(trimmedPhoneMetadata());
});

it('accepts, places and normalizes every country example number as the full metadata does', () => {
  for (const [country, national] of Object.entries(examples as Record<string, string>)) {
    const code = getCountryCallingCode(country as CountryCode);
    // The number itself, one digit short and one digit long.
    for (const sms of [`+${code}${national}`, `+${code}${national.slice(0, -1)}`, `+${code}${national}1`]) {
      expect(byHerald(sms)).toEqual(byFullMetadata(sms));
    }
  }
});

it('tells possible from impossible numbers as the full metadata does', () => {
  fc.assert(
    fc.property(fc.stringMatching(/^\+[1-9]\d{1,14}$/), (sms) => {
      expect(byHerald(sms)).toEqual(byFullMetadata(sms));
    }),
    { numRuns: 2_000, examples: [['+39163000000'], ['+19005550100']] },
  );
});
