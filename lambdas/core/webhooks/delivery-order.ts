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

/**
 * A waiting delivery is woken by the one ahead of it when that one ends; in case a wake is lost
 * (a worker dying between the two) it also looks again itself after this long, SQS's longest delay.
 */
export const ORDER_RECHECK_SECONDS = 900;
/**
 * The re-check of a delivery held by a request that is still unfinished: such a request wakes the
 * deliveries behind it when it finishes, but not when it is cancelled (the cancel function sends
 * no messages), so they look again every minute.
 */
export const ORDER_RECHECK_BEHIND_OPEN_SECONDS = 60;

/** Where a request stands in its key's order: the key and its number, from 1 in acceptance order. */
export interface OrderingTicket {
  readonly key: string;
  readonly seq: number;
}

/** A delivery that holds its key for one endpoint until it ends. */
export interface PendingDelivery {
  readonly seq: number;
  readonly deliveryId: string;
}

/** What the ledger holds ahead of a delivery: numbers of the key not yet handed over, and pending to the endpoint. */
export interface OrderStanding {
  /** Requests accepted and not yet finished (their events not yet handed to endpoints). */
  readonly open: readonly number[];
  /** Deliveries to this endpoint that are neither delivered nor dead. */
  readonly pending: readonly PendingDelivery[];
}

export type OrderDecision =
  | { readonly kind: 'go' }
  /** `ahead`: the nearest number in the way; `heldByOpen`: some of them are unfinished requests. */
  | { readonly kind: 'wait'; readonly ahead: number; readonly heldByOpen: boolean }
  /** The bound has passed: go, and release what is still ahead. */
  | { readonly kind: 'release'; readonly open: readonly number[]; readonly pending: readonly PendingDelivery[] };

/**
 * Whether the delivery of request `seq` may go now. `waitingSinceMs` is when it first found a
 * predecessor in its way (now, on its first look).
 */
export function orderDecision(seq: number, standing: OrderStanding, waitingSinceMs: number, nowMs: number): OrderDecision {
  const open = standing.open.filter((n) => n < seq);
  const pending = standing.pending.filter((delivery) => delivery.seq < seq);
  if (open.length === 0 && pending.length === 0) return { kind: 'go' };
  if (nowMs - waitingSinceMs >= ORDER_WAIT_BOUND_SECONDS * 1000) return { kind: 'release', open, pending };
  return { kind: 'wait', ahead: Math.max(...open, ...pending.map((delivery) => delivery.seq)), heldByOpen: open.length > 0 };
}

/**
 * The deliveries whose turn it is, one per endpoint at most: the lowest pending number of each
 * endpoint, unless a request accepted before it is still open.
 */
export function readyHeads(open: readonly number[], pendingByEndpoint: readonly (readonly PendingDelivery[])[]): PendingDelivery[] {
  const lowestOpen = open.length > 0 ? Math.min(...open) : Infinity;
  return pendingByEndpoint.flatMap((pending) => {
    const head = pending.reduce<PendingDelivery | undefined>((lowest, delivery) => (lowest === undefined || delivery.seq < lowest.seq ? delivery : lowest), undefined);
    return head !== undefined && head.seq < lowestOpen ? [head] : [];
  });
}

/**
 * Who may deliver a delivery that has waited: `waiting` until one message claims it, then
 * `going:<round>:<token>` for the message that did. A message proceeds when the delivery never
 * waited (and the message is not a wake), when it holds the claim, or when it wins the claim; so
 * of a wake and the delivery's own re-check, exactly one posts.
 */
export type OrderClaim = { readonly kind: 'proceed' } | { readonly kind: 'claim'; readonly expected: string } | { readonly kind: 'stand-down' };

export const ORDER_WAITING = 'waiting';

/** The attempt-log error of a wait for a predecessor: no POST was made. */
export const PREDECESSOR_PENDING = 'predecessor_pending';

export function claimOf(orderWait: string | undefined, round: number, token: string | undefined): OrderClaim {
  if (orderWait === undefined) return token === undefined ? { kind: 'proceed' } : { kind: 'stand-down' };
  if (orderWait === ORDER_WAITING) return { kind: 'claim', expected: orderWait };
  const claimed = /^going:(\d+):(.*)$/.exec(orderWait);
  if (!claimed) return { kind: 'stand-down' };
  if (Number(claimed[1]) === round) return claimed[2] === (token ?? FIRST_MESSAGE_TOKEN) ? { kind: 'proceed' } : { kind: 'stand-down' };
  // A newer round (the sweeper, a redrive) starts over on a new message.
  return Number(claimed[1]) < round ? { kind: 'claim', expected: orderWait } : { kind: 'stand-down' };
}

/** The token of a delivery's first message (the fan-out's), which carries none. */
export const FIRST_MESSAGE_TOKEN = 'first';

export function goingMark(round: number, token: string | undefined): string {
  return `going:${round}:${token ?? FIRST_MESSAGE_TOKEN}`;
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
  handOver(merchantId: string, ticket: OrderingTicket, targets: readonly { readonly endpointId: string; readonly deliveryId: string }[]): Promise<void>;
  /** Deliveries to `endpointId` ended (delivered, dead, dropped) or were released: they hold nothing anymore. */
  settle(merchantId: string, key: string, endpointId: string, deliveries: readonly PendingDelivery[]): Promise<void>;
  /** Requests that will hand nothing over (cancelled, or released by the bound) leave the open ones. */
  withdraw(merchantId: string, key: string, seqs: readonly number[]): Promise<void>;
  /** The deliveries of the key whose turn it is, one per endpoint at most (`readyHeads`). */
  heads(merchantId: string, key: string): Promise<PendingDelivery[]>;
  /** Marks a pending delivery of `round` as waiting for its turn (its `orderWait`). */
  markWaiting(deliveryId: string, round: number): Promise<void>;
  /** Sets the delivery's `orderWait` from `expected` to `going`, for `round`; false when another message got there first. */
  claim(deliveryId: string, round: number, expected: string, going: string): Promise<boolean>;
}

/** The ticket of a finished request, if it was submitted with an `orderingKey` and numbered. */
export function ticketOf(request: { readonly orderingKey?: string; readonly orderingSeq?: number }): OrderingTicket | undefined {
  return request.orderingKey !== undefined && request.orderingSeq !== undefined ? { key: request.orderingKey, seq: request.orderingSeq } : undefined;
}
