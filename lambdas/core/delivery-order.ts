/**
 * Ordered delivery per key: the rules that decide whether a delivery of a request submitted with
 * an `orderingKey` may go to its endpoint now. Each such request gets a sequence number within
 * (merchant, key) when it is accepted; a delivery goes only when no request of the same key
 * accepted before it is still unfinished (its events not yet handed to the endpoints) and no
 * delivery of such a request to the same endpoint is still pending. Different keys and different
 * endpoints share nothing, so they never wait for each other. Pure: the ledger that holds the
 * numbers is a port (`DeliveryOrderLedger`), implemented on DynamoDB.
 */

/** The longest `orderingKey`, in characters. */
export const MAX_ORDERING_KEY_LENGTH = 128;

/** 1 to 128 printable ASCII characters (space to tilde). */
export const ORDERING_KEY_PATTERN = /^[\x20-\x7e]{1,128}$/;

export function isValidOrderingKey(key: string): boolean {
  return ORDERING_KEY_PATTERN.test(key);
}

/**
 * Requests of one key that may be accepted and not yet finished at once: the ledger keeps them in
 * one item, which must stay far below DynamoDB's 400 KB. One more is refused until some finish.
 */
export const MAX_OPEN_PER_ORDERING_KEY = 1000;

/**
 * How long a delivery waits for the ones ahead of it at most. Past it, a predecessor that is
 * still pending (an endpoint down for days, a request stuck) no longer holds the key: the
 * waiting delivery goes, and the numbers ahead of it are released so those behind do not wait again.
 */
export const ORDER_WAIT_BOUND_SECONDS = 36 * 3600;

/** The first re-check of a waiting delivery comes after this, and each later one after twice as long, up to the most. */
export const ORDER_RECHECK_FIRST_SECONDS = 1;
export const ORDER_RECHECK_MAX_SECONDS = 60;

/** Where a request stands in its key's order: the key and its number, from 1 in acceptance order. */
export interface OrderingTicket {
  readonly key: string;
  readonly seq: number;
}

/** What the ledger holds ahead of a delivery: numbers of the key not yet handed over, and pending to the endpoint. */
export interface OrderStanding {
  /** Requests accepted and not yet finished (their events not yet handed to endpoints). */
  readonly open: readonly number[];
  /** Requests whose delivery to this endpoint is neither delivered nor dead. */
  readonly pending: readonly number[];
}

export type OrderDecision =
  | { readonly kind: 'go' }
  | { readonly kind: 'wait'; readonly ahead: number }
  /** The bound has passed: go, and release what is still ahead. */
  | { readonly kind: 'release'; readonly open: readonly number[]; readonly pending: readonly number[] };

/**
 * Whether the delivery of request `seq` may go now. `waitingSinceMs` is when it first found a
 * predecessor in its way (now, on its first look).
 */
export function orderDecision(seq: number, standing: OrderStanding, waitingSinceMs: number, nowMs: number): OrderDecision {
  const open = standing.open.filter((n) => n < seq);
  const pending = standing.pending.filter((n) => n < seq);
  if (open.length === 0 && pending.length === 0) return { kind: 'go' };
  if (nowMs - waitingSinceMs >= ORDER_WAIT_BOUND_SECONDS * 1000) return { kind: 'release', open, pending };
  return { kind: 'wait', ahead: Math.max(...open, ...pending) };
}

/**
 * Seconds until a waiting delivery looks again: short at first, since a predecessor usually ends
 * within a POST or two, then doubling with the time already waited, so that a key held by a dead
 * endpoint costs one look a minute, not one a second. SQS delays in whole seconds.
 */
export function recheckDelaySeconds(waitedMs: number): number {
  const waitedSeconds = Math.max(waitedMs, 0) / 1000;
  const delay = Math.max(ORDER_RECHECK_FIRST_SECONDS, Math.ceil(waitedSeconds / 2));
  return Math.min(delay, ORDER_RECHECK_MAX_SECONDS);
}

/**
 * The numbers of each key, per merchant: assigned at acceptance (by the request intake, in the
 * same write as the request), handed over when the request finishes, settled when a delivery ends.
 * Every change is idempotent: repeating one (a redelivered message) changes nothing.
 */
export interface DeliveryOrderLedger {
  /** What stands ahead in (merchant, key) for `endpointId`. */
  standing(merchantId: string, key: string, endpointId: string): Promise<OrderStanding>;
  /**
   * The request finished: its number leaves the open ones and becomes pending for each endpoint
   * its event goes to, in one transaction. Done once; a repetition finds it done and changes nothing.
   */
  handOver(merchantId: string, ticket: OrderingTicket, endpointIds: readonly string[]): Promise<void>;
  /** Deliveries to `endpointId` ended (delivered, dead, dropped) or were released: they hold nothing anymore. */
  settle(merchantId: string, key: string, endpointId: string, seqs: readonly number[]): Promise<void>;
  /** Requests that will hand nothing over (cancelled, or released by the bound) leave the open ones. */
  withdraw(merchantId: string, key: string, seqs: readonly number[]): Promise<void>;
}

/** The ticket of a finished request, if it was submitted with an `orderingKey` and numbered. */
export function ticketOf(request: { readonly orderingKey?: string; readonly orderingSeq?: number }): OrderingTicket | undefined {
  return request.orderingKey !== undefined && request.orderingSeq !== undefined ? { key: request.orderingKey, seq: request.orderingSeq } : undefined;
}
