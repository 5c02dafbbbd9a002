import * as z from '../shared/schema';
import { parseFilter, type WebhookFilter } from './webhook-filter';
import { SIGNATURE_SCHEMES } from './webhook-signatures';
import { PAYLOAD_MODES, REQUEST_EVENT_TYPES } from './endpoint';

/** The highest per-endpoint rate: above it a limit would not protect any receiver Herald's own concurrency could reach. */
export const MAX_RATE_LIMIT_PER_SECOND = 1000;
const rateLimitSchema = z
  .number({ error: 'must be a whole number of deliveries per second' })
  .check(z.int('must be a whole number of deliveries per second'), z.gte(1, 'must be at least 1'), z.lte(MAX_RATE_LIMIT_PER_SECOND, `must be at most ${MAX_RATE_LIMIT_PER_SECOND}`));

const payloadModeSchema = z.enum(PAYLOAD_MODES, { error: `must be one of ${PAYLOAD_MODES.join(', ')}` });

/** A filter from a request body: validated and bounded (`parseFilter`), or undefined when absent. */
const filterSchema = z.unknown().check(
  z.superRefine((value, ctx) => {
    try {
      parseFilter(value, '');
    } catch (error) {
      for (const issue of (error as { errors?: { path: string; message: string }[] }).errors ?? []) {
        ctx.issues.push({ code: 'custom', message: issue.message, input: value, path: issue.path.split('/').slice(1) });
      }
    }
  }),
) as z.ZodMiniType<WebhookFilter>;

const eventTypesSchema = z
  .array(z.enum(REQUEST_EVENT_TYPES, { error: `must be one of ${REQUEST_EVENT_TYPES.join(', ')}` }))
  .check(z.minLength(1, 'must name at least one event type'), z.maxLength(REQUEST_EVENT_TYPES.length));

export const createEndpointSchema = z.strictObject({
  url: z.string({ error: 'url is required and must be a string' }),
  description: z.optional(z.string().check(z.maxLength(500))),
  eventTypes: z.optional(eventTypesSchema),
  filter: z.optional(filterSchema),
  payloadMode: z.optional(payloadModeSchema),
  rateLimitPerSecond: z.optional(rateLimitSchema),
  signatureScheme: z.optional(z.enum(SIGNATURE_SCHEMES, { error: `must be one of ${SIGNATURE_SCHEMES.join(', ')}` })),
});

export const updateEndpointSchema = z
  .strictObject({
    url: z.optional(z.string()),
    description: z.optional(z.nullable(z.string().check(z.maxLength(500)))),
    eventTypes: z.optional(z.nullable(eventTypesSchema)),
    filter: z.optional(z.nullable(filterSchema)),
    payloadMode: z.optional(payloadModeSchema),
    rateLimitPerSecond: z.optional(z.nullable(rateLimitSchema)),
    disabled: z.optional(z.boolean()),
  })
  .check(z.refine((patch) => Object.keys(patch).length > 0, 'name at least one of url, description, eventTypes, filter, payloadMode, rateLimitPerSecond, disabled'));

export const recoverSchema = z.strictObject({
  since: z.iso.datetime({ offset: true, error: 'since must be an ISO 8601 date-time' }),
});

export type CreateEndpointInput = z.infer<typeof createEndpointSchema>;
export type UpdateEndpointInput = z.infer<typeof updateEndpointSchema>;
