import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod';
import { PermanentError, RetryableError, type Processor } from '../core/processor';

/** Orders above this total are refused: the business rule that makes a permanent failure. */
export const ORDER_LIMIT_CENTS = 1_000_000;

const item = z.strictObject({
  sku: z.string().min(1).max(64),
  quantity: z.number().int().min(1).max(1_000),
  unitPriceCents: z.number().int().min(0).max(100_000_000),
});

/**
 * How the simulated work behaves, for demos and chaos tests: how long it takes, how often it
 * fails for a transient reason, how many first attempts fail, and until when its upstream is down.
 */
const simulation = z.strictObject({
  durationMs: z.number().int().min(0).max(25_000).default(0),
  transientFailureRate: z.number().min(0).max(1).default(0),
  failFirstAttempts: z.number().int().min(0).max(20).default(0),
  unavailableUntil: z.iso.datetime().optional(),
});

const orderSchema = z
  .strictObject({
    orderId: z.string().min(1).max(64),
    currency: z.string().regex(/^[A-Z]{3}$/, 'currency must be an ISO 4217 code such as EUR'),
    items: z.array(item).min(1).max(100),
    simulate: simulation.default({ durationMs: 0, transientFailureRate: 0, failFirstAttempts: 0 }),
  })
  .superRefine((order, ctx) => {
    const seen = new Set<string>();
    order.items.forEach((line, index) => {
      if (seen.has(line.sku)) ctx.addIssue({ code: 'custom', path: ['items', index, 'sku'], message: `SKU ${line.sku} appears twice` });
      seen.add(line.sku);
    });
  });

export type Order = z.infer<typeof orderSchema>;

export interface OrderReceipt {
  readonly orderId: string;
  readonly currency: string;
  readonly itemCount: number;
  readonly totalCents: number;
}

/**
 * Processes an order: the payload is validated at submit (lines, quantities, prices, unique
 * SKUs), the work takes `simulate.durationMs` and fails transiently as `simulate` says, and an
 * order over the limit is refused for good.
 */
export const orderProcess: Processor<Order, OrderReceipt> = {
  type: 'order.process',
  timeoutMs: 30_000,
  expectedSeconds: 1,
  schema: orderSchema,
  async run(order, { attempt, signal, logger }) {
    const { simulate } = order;
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
  },
};
