import sift from 'sift';
import { ValidationError, type FieldError } from '../shared/errors';
import * as z from '../shared/schema';

/**
 * Payload filters: which events an endpoint takes, as conditions on the event body. A filter is an
 * object whose keys are dot paths into the event (`data.type`, `data.result.total`) mapped to
 * operator objects, or one of `$and`, `$or` (lists of filters) and `$not` (one filter); the keys
 * of one object must all hold. MongoDB-style matching is done by `sift`; this module bounds what
 * reaches it and translates Herald's operator names into sift's.
 *
 * @example matchFilter({ 'data.type': { $eq: 'order.process' }, 'data.result.total': { $gte: 100 } }, event)
 */

/** What a stored filter may hold: checked at registration, so fan-out never meets a surprise. */
export const FILTER_LIMITS = {
  /** Bytes of the filter as JSON. */
  maxBytes: 4096,
  /** Nesting of `$and`, `$or` and `$not`: the top-level object is depth 1. */
  maxDepth: 5,
  /** Conditions (one operator on one path) in the whole filter. */
  maxConditions: 50,
  /** Segments of one dot path, and its length in characters. */
  maxPathSegments: 10,
  maxPathChars: 200,
  /** Values of one `$in` or `$nin`, and characters of one string value. */
  maxListValues: 100,
  maxStringChars: 256,
  /** Items of one `$and` or `$or`. */
  maxBranches: 20,
} as const;

export const FILTER_OPERATORS = ['$eq', '$neq', '$in', '$nin', '$gt', '$gte', '$lt', '$lte', '$exists', '$startsWith'] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

type Scalar = string | number | boolean | null;
export type Conditions = Partial<Record<FilterOperator, unknown>>;
/** A filter as stored: a plain JSON object of the shape described above, already validated. */
export interface WebhookFilter {
  readonly [key: string]: Conditions | readonly WebhookFilter[] | WebhookFilter;
}

const text = z.string().check(z.maxLength(FILTER_LIMITS.maxStringChars, `strings are at most ${FILTER_LIMITS.maxStringChars} characters`));
const scalar = z.union([text, z.number().check(z.refine(Number.isFinite, 'numbers must be finite')), z.boolean(), z.null()], {
  error: 'must be a string, number, boolean or null',
});
const list = z.array(scalar).check(z.minLength(1, 'must list at least one value'), z.maxLength(FILTER_LIMITS.maxListValues, `lists at most ${FILTER_LIMITS.maxListValues} values`));
const orderable = z.union([z.number(), text], { error: 'must be a number or a string' });

/** The operators of one path. */
const conditionsSchema = z.strictObject({
    $eq: z.optional(scalar),
    $neq: z.optional(scalar),
    $in: z.optional(list),
    $nin: z.optional(list),
    $gt: z.optional(orderable),
    $gte: z.optional(orderable),
    $lt: z.optional(orderable),
    $lte: z.optional(orderable),
    $exists: z.optional(z.boolean({ error: 'must be true or false' })),
    $startsWith: z.optional(text.check(z.minLength(1, 'must not be empty'))),
});

const PATH_SEGMENT = /^[A-Za-z0-9_-]{1,64}$/;
// Segments that would walk an object's prototype rather than the event's own data.
const RESERVED_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Checks a filter against the grammar and `FILTER_LIMITS` and returns it typed; throws a
 * `ValidationError` whose field paths (JSON pointers under `at`) name every problem found.
 */
export function parseFilter(value: unknown, at = '/filter'): WebhookFilter {
  const errors: FieldError[] = [];
  const size = Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
  if (size > FILTER_LIMITS.maxBytes) {
    errors.push({ path: at, message: `is ${size} bytes as JSON; a filter is at most ${FILTER_LIMITS.maxBytes}` });
  } else {
    const conditions = checkNode(value, at, 1, errors);
    if (conditions > FILTER_LIMITS.maxConditions) {
      errors.push({ path: at, message: `holds ${conditions} conditions; a filter holds at most ${FILTER_LIMITS.maxConditions}` });
    }
  }
  if (errors.length > 0) throw new ValidationError(`The filter is invalid: ${[...new Set(errors.map((e) => e.path))].join(', ')}`, errors);
  return value as WebhookFilter;
}

/** Checks one filter object; returns how many conditions it holds. */
function checkNode(node: unknown, at: string, depth: number, errors: FieldError[]): number {
  if (depth > FILTER_LIMITS.maxDepth) {
    errors.push({ path: at, message: `nests deeper than ${FILTER_LIMITS.maxDepth} levels of $and, $or and $not` });
    return 0;
  }
  if (typeof node !== 'object' || node === null || Array.isArray(node)) {
    errors.push({ path: at, message: 'must be an object of dot paths to operator objects, or $and, $or, $not' });
    return 0;
  }
  const entries = Object.entries(node);
  if (entries.length === 0) {
    errors.push({ path: at, message: 'must hold at least one condition' });
    return 0;
  }
  let conditions = 0;
  for (const [key, child] of entries) {
    const where = `${at}/${pointerEscape(key)}`;
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(child) || child.length === 0 || child.length > FILTER_LIMITS.maxBranches) {
        errors.push({ path: where, message: `must be a list of 1 to ${FILTER_LIMITS.maxBranches} filters` });
        continue;
      }
      child.forEach((branch, i) => (conditions += checkNode(branch, `${where}/${i}`, depth + 1, errors)));
    } else if (key === '$not') {
      conditions += checkNode(child, where, depth + 1, errors);
    } else if (key.startsWith('$')) {
      errors.push({ path: where, message: `is not an operator here: a filter object takes dot paths and $and, $or, $not; ${FILTER_OPERATORS.join(', ')} go inside a path's object` });
    } else {
      const pathProblem = checkPath(key);
      if (pathProblem) {
        errors.push({ path: where, message: pathProblem });
        continue;
      }
      // An empty operator object would hold for every event: most likely a mistake, so it is refused.
      if (typeof child === 'object' && child !== null && Object.keys(child).length === 0) {
        errors.push({ path: where, message: `name at least one of ${FILTER_OPERATORS.join(', ')}` });
        continue;
      }
      const parsed = conditionsSchema.safeParse(child);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          const suffix = issue.path.map((p) => `/${pointerEscape(String(p))}`).join('');
          const message = issue.code === 'unrecognized_keys' ? `unknown operator ${issue.keys.join(', ')}; use ${FILTER_OPERATORS.join(', ')}` : issue.message;
          errors.push({ path: where + suffix, message });
        }
        continue;
      }
      conditions += Object.keys(parsed.data).length;
    }
  }
  return conditions;
}

function checkPath(path: string): string | undefined {
  if (path.length > FILTER_LIMITS.maxPathChars) return `a path is at most ${FILTER_LIMITS.maxPathChars} characters`;
  const segments = path.split('.');
  if (segments.length > FILTER_LIMITS.maxPathSegments) return `a path has at most ${FILTER_LIMITS.maxPathSegments} segments`;
  const bad = segments.find((segment) => !PATH_SEGMENT.test(segment) || RESERVED_SEGMENTS.has(segment));
  if (bad !== undefined) return `path segment "${bad.slice(0, 64)}" must be 1 to 64 letters, digits, _ or - (and not __proto__, constructor, prototype)`;
  return undefined;
}

const pointerEscape = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

// --- evaluation -------------------------------------------------------------------------------

/** What a filter made of an event: whether it matches and, if not, where the first failing condition is. */
export interface FilterVerdict {
  readonly matches: boolean;
  /** The failing condition's place in the filter: its dot path, behind `$and[i].`, `$or`, `$not` where nested. */
  readonly failedAt?: string;
}

/** Whether an event matches a validated filter: one sift query over the translated filter. */
export function matchesFilter(filter: WebhookFilter, event: unknown): boolean {
  return sift(toSiftQuery(filter))(event);
}

/**
 * Evaluates a validated filter and, when it fails, finds the first failing condition in the
 * filter's own order by evaluating its parts one by one with sift: within an object, the first
 * key that fails; within `$and`, the first branch that fails; an `$or` all of whose branches fail
 * and a `$not` whose filter holds fail as themselves.
 */
export function evaluateFilter(filter: WebhookFilter, event: unknown): FilterVerdict {
  const matches = matchesFilter(filter, event);
  if (matches) return { matches };
  return { matches, failedAt: firstFailure(filter, event, '') ?? '' };
}

function firstFailure(filter: WebhookFilter, event: unknown, prefix: string): string | undefined {
  for (const [key, child] of Object.entries(filter)) {
    const part = { [key]: child } as WebhookFilter;
    if (matchesFilter(part, event)) continue;
    if (key === '$and') {
      const branches = child as readonly WebhookFilter[];
      for (let i = 0; i < branches.length; i++) {
        if (!matchesFilter(branches[i]!, event)) return firstFailure(branches[i]!, event, `${prefix}$and[${i}].`);
      }
    }
    return prefix + key;
  }
  return undefined;
}

/** Herald's filter as a sift (MongoDB) query: `$neq` is `$ne`, `$startsWith` an anchored literal `$regex`, `$not` a one-branch `$nor`. */
export function toSiftQuery(filter: WebhookFilter): Record<string, unknown> {
  const query: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(filter)) {
    if (key === '$and' || key === '$or') query[key] = (child as readonly WebhookFilter[]).map(toSiftQuery);
    // MongoDB's $not applies to one field's operators; negating a whole filter is $nor of one branch.
    else if (key === '$not') query.$nor = [toSiftQuery(child as WebhookFilter)];
    else query[key] = toSiftConditions(child as Conditions);
  }
  return query;
}

function toSiftConditions(conditions: Conditions): Record<string, unknown> {
  const translated: Record<string, unknown> = {};
  for (const [operator, operand] of Object.entries(conditions) as [FilterOperator, unknown][]) {
    if (operator === '$neq') translated.$ne = operand;
    // The prefix is escaped into a literal, so a merchant's string cannot become a costly pattern.
    else if (operator === '$startsWith') translated.$regex = `^${escapeRegExp(operand as string)}`;
    else translated[operator] = operand as Scalar;
  }
  return translated;
}

const escapeRegExp = (literal: string) => literal.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

// --- the dry run --------------------------------------------------------------------------------

export const filterTestSchema = z.strictObject({
  filter: z.unknown(),
  event: z.unknown(),
});

/**
 * `POST /v1/webhooks/filter-test`: validates a filter as registration would and evaluates it
 * against a sample event, so a merchant can try a filter before an endpoint carries it.
 */
export function testFilter(body: unknown): FilterVerdict {
  const parsed = filterTestSchema.safeParse(body);
  if (!parsed.success || parsed.data.filter === undefined || parsed.data.event === undefined) {
    const errors: FieldError[] = [];
    const data = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    if (data.filter === undefined) errors.push({ path: '/filter', message: 'is required' });
    if (data.event === undefined) errors.push({ path: '/event', message: 'is required' });
    for (const key of Object.keys(data)) if (key !== 'filter' && key !== 'event') errors.push({ path: `/${pointerEscape(key)}`, message: 'is not a field of a filter test' });
    if (errors.length === 0) errors.push({ path: '', message: 'must be an object with filter and event' });
    throw new ValidationError(`The filter test is invalid: ${errors.map((e) => e.path || '/').join(', ')}`, errors);
  }
  const filter = parseFilter(parsed.data.filter);
  const event = parsed.data.event;
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new ValidationError('The filter test is invalid: /event', [{ path: '/event', message: 'must be an object, as an event body is' }]);
  }
  return evaluateFilter(filter, event);
}
