/**
 * Writes lambdas/core/notifications/phone-metadata.json: libphonenumber-js's `min` metadata without the
 * formatting rules, which are most of its size (about 50 of 83 KB) and which Herald never uses:
 * it checks a number's possible length, finds its country and keeps it in E.164, and none of
 * those read a format. Run it after upgrading libphonenumber-js:
 *
 *   npx tsx scripts/phone-metadata.ts
 *
 * test/unit/core/notifications/phone-metadata.test.ts fails while the file differs from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import min from 'libphonenumber-js/metadata.min.json';

/** Where a numbering plan keeps its formats in the compressed metadata (see libphonenumber-js's metadata.js). */
const FORMATS = 4;

type Plan = unknown[];
interface CompressedMetadata {
  readonly countries: Record<string, Plan>;
  readonly nonGeographic?: Record<string, Plan>;
  readonly [key: string]: unknown;
}

const withoutFormats = (plans: Record<string, Plan>): Record<string, Plan> =>
  Object.fromEntries(Object.entries(plans).map(([code, plan]) => [code, plan.map((field, index) => (index === FORMATS ? [] : field))]));

/** The metadata Herald bundles: every numbering plan of `min`, its formats emptied. */
export function trimmedPhoneMetadata(metadata: CompressedMetadata = min as CompressedMetadata): CompressedMetadata {
  return {
    ...metadata,
    countries: withoutFormats(metadata.countries),
    ...(metadata.nonGeographic ? { nonGeographic: withoutFormats(metadata.nonGeographic) } : {}),
  };
}

export const PHONE_METADATA_FILE = join(__dirname, '..', 'lambdas', 'core', 'notifications', 'phone-metadata.json');

if (require.main === module) {
  writeFileSync(PHONE_METADATA_FILE, JSON.stringify(trimmedPhoneMetadata()) + '\n');
  console.log(`wrote ${PHONE_METADATA_FILE}`);
}
