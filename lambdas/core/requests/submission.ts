import * as z from '../shared/schema';
import type { SchemaError } from '../shared/schema';
import { ValidationError, type FieldError } from '../shared/errors';
import { callbackFields } from '../webhooks/callbacks';
import { ORDERING_KEY_PATTERN } from '../webhooks/delivery-order';

/** Requests bodies above this size are refused with 413 (SQS messages and DynamoDB items must stay well below their limits). */
export const MAX_BODY_BYTES = 256 * 1024;

const PRINTABLE_ASCII = /^[\x20-\x7e]{1,255}$/;

/** An idempotency key is 1–255 printable ASCII characters (the IETF Idempotency-Key draft leaves the syntax to us). */
export function isValidIdempotencyKey(key: string): boolean {
  return PRINTABLE_ASCII.test(key);
}

export const submissionSchema = z.strictObject({
  type: z.string({ error: 'type is required and must be a string' }).check(z.minLength(1, 'type must not be empty'), z.maxLength(100)),
  payload: z.record(z.string(), z.unknown(), { error: 'payload must be a JSON object' }),
  notify: z.optional(
    z.strictObject({
      sms: z.optional(z.string()),
      email: z.optional(z.string()),
    }),
  ),
  webhookEvents: z.optional(z.boolean()),
  ...callbackFields,
  orderingKey: z.optional(
    z
      .string({ error: 'orderingKey must be a string' })
      .check(z.regex(ORDERING_KEY_PATTERN, 'orderingKey must be 1 to 128 printable ASCII characters (space to ~)')),
  ),
  notBefore: z.optional(z.iso.datetime({ offset: true, error: 'notBefore must be an ISO 8601 date-time such as 2030-01-01T12:00:00Z' })),
});

/**
 * How far ahead `notBefore` may lie: SQS delays a message by at most 15 minutes, and a start
 * further out would need a scheduler Herald does not have.
 */
export const MAX_START_DELAY_SECONDS = 900;

export type Submission = z.infer<typeof submissionSchema>;

/** Turns zod's issues into problem `errors[]` entries: one per rejected field, with its path. */
export function fieldErrorsOf(error: SchemaError): FieldError[] {
  return error.issues.flatMap((issue) => {
    const base = issue.path.map(String);
    // zod reports unknown keys once, on the parent; a client needs each offending field by name.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: pointer([...base, key]), message: `Unknown field "${key}"` }));
    }
    return [{ path: pointer(base), message: issue.message }];
  });
}

function pointer(segments: readonly string[]): string {
  return '/' + segments.map((s) => s.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

/** Validates a parsed body against a schema, throwing a ValidationError that names every bad field. */
export function validate<T>(schema: z.ZodMiniType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const errors = fieldErrorsOf(parsed.error);
  const named = errors.map((e) => e.path).join(', ');
  throw new ValidationError(`The ${what} is invalid: ${named}`, errors);
}
