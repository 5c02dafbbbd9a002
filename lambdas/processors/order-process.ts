import { setTimeout as sleep } from 'node:timers/promises';
import { PermanentError, RetryableError, type Processor } from '../core/requests/processor';
import * as z from '../core/shared/schema';

/** Orders above this total are refused: the business rule that makes a permanent failure. */
export const ORDER_LIMIT_CENTS = 1_000_000;

const item = z.strictObject({
  sku: z.string().check(z.minLength(1), z.maxLength(64)),
  quantity: z.number().check(z.int(), z.gte(1), z.lte(1_000)),
  unitPriceCents: z.number().check(z.int(), z.gte(0), z.lte(100_000_000)),
});

/**
 * How the simulated work behaves, for demos and chaos tests: how long it takes, how often it
 * fails for a transient reason, how many first attempts fail, and until when its upstream is down.
 */
const simulation = z.strictObject({
  durationMs: z._default(z.number().check(z.int(), z.gte(0), z.lte(25_000)), 0),
  transientFailureRate: z._default(z.number().check(z.gte(0), z.lte(1)), 0),
  failFirstAttempts: z._default(z.number().check(z.int(), z.gte(0), z.lte(20)), 0),
  unavailableUntil: z.optional(z.iso.datetime()),
});

/** The checks every order passes, whichever fields it may carry. */
const noRepeatedSku = z.superRefine((order: { items: readonly { sku: string }[] }, ctx) => {
  const seen = new Set<string>();
  order.items.forEach((line, index) => {
    if (seen.has(line.sku)) ctx.addIssue({ code: 'custom', path: ['items', index, 'sku'], message: `SKU ${line.sku} appears twice` });
    seen.add(line.sku);
  });
});

const orderFields = {
  orderId: z.string().check(z.minLength(1), z.maxLength(64)),
  currency: z.string().check(z.regex(/^[A-Z]{3}$/, 'currency must be an ISO 4217 code such as EUR')),
  items: z.array(item).check(z.minLength(1), z.maxLength(100)),
};

/** Where demo processors are on: the fault switches are honoured. */
const orderWithFaultsSchema = z.strictObject({ ...orderFields, simulate: z.optional(simulation) }).check(noRepeatedSku);

/**
 * In a deployment that runs no demo processors, one merchant's `simulate.durationMs` would hold a
 * shared worker for 25 s an order: the switches are refused by name rather than ignored, so a
 * client learns why its payload is bad.
 */
const productionOrderSchema: z.ZodMiniType<Order> = z
  .strictObject({
    ...orderFields,
    simulate: z.optional(z.never({ error: 'simulate (fault switches) is accepted only where demo processors are on' })),
  })
  .check(noRepeatedSku);

export type Order = z.infer<typeof orderWithFaultsSchema>;

export interface OrderReceipt {
  readonly orderId: string;
  readonly currency: string;
  readonly itemCount: number;
  readonly totalCents: number;
}

const NO_SIMULATION: z.infer<typeof simulation> = { durationMs: 0, transientFailureRate: 0, failFirstAttempts: 0 };

/**
 * Processes an order: the payload is validated at submit (lines, quantities, prices, unique
 * SKUs), the work takes `simulate.durationMs` and fails transiently as `simulate` says (only
 * where demo processors are on), and an order over the limit is refused for good.
 */
const processOrder: Processor<Order, OrderReceipt>['run'] = async (order, { attempt, signal, logger }) => {
  const simulate = order.simulate ?? NO_SIMULATION;
  if (simulate.durationMs > 0) await sleep(simulate.durationMs, undefined, { signal });
  if (attempt <= simulate.failFirstAttempts) {
    throw new RetryableError(`The order service is unavailable (attempt ${attempt} of the first ${simulate.failFirstAttempts} that fail)`, 'order_service_unavailable');
  }
  if (simulate.unavailableUntil && Date.now() < Date.parse(simulate.unavailableUntil)) {
    throw new RetryableError(`The order service is unavailable until ${simulate.unavailableUntil}`, 'order_service_unavailable');
  }
  if (Math.random() < simulate.transientFailureRate) {
    throw new RetryableError('The order service timed out', 'order_service_timeout');
  }
  const totalCents = order.items.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
  if (totalCents > ORDER_LIMIT_CENTS) {
    throw new PermanentError(`The order total ${totalCents} exceeds the limit of ${ORDER_LIMIT_CENTS} cents`, 'order_limit_exceeded');
  }
  const itemCount = order.items.reduce((sum, line) => sum + line.quantity, 0);
  logger.info('Order processed', { orderId: order.orderId, totalCents });
  return { orderId: order.orderId, currency: order.currency, itemCount, totalCents };
};

function orderProcessor(schema: z.ZodMiniType<Order>): Processor<Order, OrderReceipt> {
  return { type: 'order.process', displayName: 'Order processing', timeoutMs: 30_000, expectedSeconds: 1, schema, run: processOrder };
}

/** `order.process` as a deployment without demo processors runs it: a `simulate` block is a 400. */
export const orderProcess = orderProcessor(productionOrderSchema);
/** `order.process` for demos and chaos runs (demo processors on): `simulate` shapes each attempt. */
export const orderProcessWithFaults = orderProcessor(orderWithFaultsSchema);
