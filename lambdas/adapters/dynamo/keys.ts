import type { NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import { keyPartitions, table } from '../../settings/storage';
import type { ApiKeyRecord, Merchant } from '../../core/merchants/merchant';
import type { NotificationRecord, NotificationSlot } from '../../core/notifications/notification';
import type { OperationsContacts, RecipientSubscription } from '../../core/notifications/ports';
import { isTerminal, type HeraldRequest, type RequestStatus } from '../../core/requests/request';
import type { LedgerEntry, Wallet } from '../../core/requests/wallet';
import { TEST_EVENT_TYPE, type EndpointSettings, type WebhookEndpoint, type WebhookEventType } from '../../core/webhooks/endpoint';
import { type Delivery } from '../../core/webhooks/delivery';
import { isCallbackTarget } from '../../core/webhooks/callbacks';
import { allShards, shardOf } from './shards';
import { inlineBody, readInlineBody } from './inline-bodies';

/**
 * The map of the single table: every partition key, sort key and index key format, and how each
 * entity becomes an item and comes back. `docs/data-model.md` describes the same map in prose;
 * no other module spells a key. Items are written and read field by field, so an attribute added
 * to the table for its keys never leaks into a domain object.
 */

/** An item as the document client hands it over. */
export type Item = Record<string, NativeAttributeValue>;

export interface Key {
  readonly pk: string;
  readonly sk: string;
}

/** The items of one partition whose sort key starts with a prefix: one Query. */
export interface KeyRange {
  readonly pk: string;
  readonly skPrefix: string;
}

/** Attribute names of the two indexes (as declared in the topology) and of the TTL. */
const GSI1PK = 'gsi1pk';
const GSI1SK = 'gsi1sk';
const GSI2PK = 'gsi2pk';
const GSI2SK = 'gsi2sk';

const merchantPartition = (merchantId: string) => `MER#${merchantId}`;
const requestPartition = (requestId: string) => `REQ#${requestId}`;
/** Index sort keys end in the id, so that equal times still order and a page can resume after one. */
const timeOrdered = (time: string, id: string) => `${time}#${id}`;

/** The merchant id in a merchant partition key (`MER#<id>`). */
export const merchantIdOfKey = (pk: string): string => pk.slice('MER#'.length);

export const keys = {
  request: (id: string): Key => ({ pk: requestPartition(id), sk: 'REQ' }),
  merchant: (id: string): Key => ({ pk: merchantPartition(id), sk: 'MER' }),
  /** The lookup copy of an API key, found by the digest of the presented key. */
  apiKey: (keyHash: string): Key => ({ pk: `KEY#${keyHash}`, sk: 'KEY' }),
  /** The listing copy of an API key under its merchant, so `keys list` needs no scan. */
  merchantApiKey: (merchantId: string, keyId: string): Key => ({ pk: merchantPartition(merchantId), sk: `KEY#${keyId}` }),
  merchantApiKeys: (merchantId: string): KeyRange => ({ pk: merchantPartition(merchantId), skPrefix: 'KEY#' }),
  endpoint: (merchantId: string, id: string): Key => ({ pk: merchantPartition(merchantId), sk: `WH#${id}` }),
  /** An endpoint's signing secrets, in the secrets table: the endpoint's own key, so one names both. */
  endpointSecrets: (merchantId: string, id: string): Key => ({ pk: merchantPartition(merchantId), sk: `WH#${id}` }),
  merchantEndpoints: (merchantId: string): KeyRange => ({ pk: merchantPartition(merchantId), skPrefix: 'WH#' }),
  /** One counter per merchant makes the endpoint limit a condition instead of a read-then-write. */
  endpointCounter: (merchantId: string): Key => ({ pk: merchantPartition(merchantId), sk: 'WHCOUNT' }),
  /** Beside the request it announces; a test event has no request and gets its own partition. */
  delivery: (subjectId: string, endpointId: string, eventType: WebhookEventType): Key => ({
    pk: eventType === TEST_EVENT_TYPE ? `EVT#${subjectId}` : requestPartition(subjectId),
    sk: `DLV#${endpointId}#${eventType}`,
  }),
  /**
   * A payload too large to keep inline, beside its request and keyed by the fingerprint of the
   * body that submitted it: a different body replayed under the same idempotency key writes an
   * item of its own and never overwrites this one.
   */
  requestPayload: (requestId: string, fingerprint: string): Key => ({ pk: requestPartition(requestId), sk: `PAYLOAD#${fingerprint}` }),
  /** A result too large to keep inline, one per attempt: only the attempt's holder writes it, once. */
  requestResult: (requestId: string, attempt: number): Key => ({ pk: requestPartition(requestId), sk: `RESULT#${attempt}` }),
  requestDeliveries: (requestId: string): KeyRange => ({ pk: requestPartition(requestId), skPrefix: 'DLV#' }),
  notificationSlot: (slot: NotificationSlot): Key => ({
    pk: slot.scope === 'request' ? requestPartition(slot.subjectId) : merchantPartition(slot.subjectId),
    sk: ['NTF#' + slot.audience, slot.channel, slot.event, ...(slot.discriminator ? [slot.discriminator] : [])].join('#'),
  }),
  requestNotifications: (requestId: string): KeyRange => ({ pk: requestPartition(requestId), skPrefix: 'NTF#' }),
  /** One subscription per address, whichever merchant used it first: SNS allows one per (topic, protocol, endpoint). */
  recipient: (address: string): Key => ({ pk: `SUB#email#${address.toLowerCase()}`, sk: 'SUB' }),
  operationsContacts: (merchantId: string): Key => ({ pk: merchantPartition(merchantId), sk: 'NOTIFY' }),
  // Merchant ids and wallet ids never contain '#', so the merchant prefix cannot be forged by an id.
  wallet: (merchantId: string, walletId: string): Key => ({ pk: `WALLET#${merchantId}#${walletId}`, sk: 'WALLET' }),
  ledgerEntry: (merchantId: string, reference: string, entry: string): Key => ({
    pk: `LEDGER#${merchantId}#${reference}`,
    sk: `ENTRY#${entry}`,
  }),
  ledger: (merchantId: string, reference: string): KeyRange => ({ pk: `LEDGER#${merchantId}#${reference}`, skPrefix: 'ENTRY#' }),
  /** The ids of a merchant's requests not yet finished: a set, so admitting or releasing one twice changes nothing. */
  requestsInFlight: (merchantId: string): Key => ({ pk: merchantPartition(merchantId), sk: 'QUOTA#in-flight' }),
  /** A merchant's SMS count of one UTC day (`YYYY-MM-DD`), expired by TTL two days later. */
  smsOfDay: (merchantId: string, day: string): Key => ({ pk: merchantPartition(merchantId), sk: `QUOTA#sms#${day}` }),
  /** A merchant's calls waiting on a request (`Prefer: wait`): a set of `<untilMs>:<callId>` members. */
  waitingCalls: (merchantId: string): Key => ({ pk: merchantPartition(merchantId), sk: 'QUOTA#waiting-calls' }),
  redrive: (queue: string): Key => ({ pk: `REDRIVE#${queue}`, sk: 'REDRIVE' }),
  /**
   * An ordering key's numbers (the last assigned, and the open requests): a partition per
   * (merchant, key), so keys spread over partitions. Merchant ids never contain '#', so the first
   * '#' after the merchant id ends it whatever the key holds.
   */
  orderingKey: (merchantId: string, key: string): Key => ({ pk: `ORDER#${merchantId}#${key}`, sk: 'KEY' }),
  /** The deliveries of an ordering key still pending to one endpoint, beside the key's numbers. */
  orderingCursor: (merchantId: string, key: string, endpointId: string): Key => ({ pk: `ORDER#${merchantId}#${key}`, sk: `EP#${endpointId}` }),
  /** An endpoint's delivery rate: when its next delivery may go out (lambdas/adapters/dynamo-delivery-rate-limiter.ts). */
  deliveryRate: (endpointId: string): Key => ({ pk: `RATE#${endpointId}`, sk: 'RATE' }),
  /** A merchant's callback signing secrets, in the secrets table: only the webhooks API and the deliver worker read it. */
  callbackSecrets: (merchantId: string): Key => ({ pk: merchantPartition(merchantId), sk: 'CALLBACK#SECRET' }),
  /** In the table: that the merchant has a callback secret, and since when, so submit can tell without the secrets table. */
  callbackSecretMarker: (merchantId: string): Key => ({ pk: merchantPartition(merchantId), sk: 'CALLBACK#SECRET' }),
  /**
   * One of a merchant's `eventStreams.maxOpenPerMerchant` event stream slots, held by a lease. A
   * partition of its own, so the stream function's write grant names it alone (the topology's grants).
   */
  eventStreamSlot: (merchantId: string, slot: number): Key => ({ pk: `${keyPartitions.eventStreamSlots}${merchantId}`, sk: `SLOT#${slot}` }),
  /** In the secrets table: only the functions granted `statusTokenSecret` may read it (the topology's grants). */
  statusTokenSecret: (): Key => ({ pk: keyPartitions.statusTokenSecret, sk: 'CONFIG' }),
  /** In the secrets table: granted to the functions that send to or consume the deliveries queue (lib/constructs/functions.ts). */
  deliveryMessageKey: (): Key => ({ pk: keyPartitions.deliveryMessageKey, sk: 'CONFIG' }),
} as const;

/** The table key of an item, e.g. of an index entry, which projects keys only. */
export function tableKeyOf(item: Item): Key {
  return { pk: String(item.pk), sk: String(item.sk) };
}

/**
 * Index keys: byMerchant (gsi1) lists a merchant's requests and an endpoint's deliveries; byStatus
 * (gsi2) feeds the sweepers. Every partition key that many items share carries a shard number
 * from a hash of the item's own id (`shards.ts`, counts in `table.shards` of the topology), so no
 * single value takes more than its share of the writes; readers ask every partition a `…Partitions`
 * function returns and merge by sort key. Those lists end with the key's unsharded value, under
 * which a table written before the shards holds its entries: they stay readable until they leave.
 */
export const indexKeys = {
  /** byMerchant partition of a merchant's requests in one shard, newest first by `createdAt#id`. */
  merchantRequests: (merchantId: string, shard: number) => `${merchantPartition(merchantId)}#${shard}`,
  /** Every byMerchant partition a merchant's list reads. */
  merchantRequestPartitions: (merchantId: string): string[] =>
    withUnsharded(merchantPartition(merchantId), table.shards.merchantRequests, (shard) => indexKeys.merchantRequests(merchantId, shard)),
  /** byMerchant keys of one request: its merchant's list shard, from the request's id. */
  requestListing: (merchantId: string, createdAt: string, id: string) => ({
    [GSI1PK]: indexKeys.merchantRequests(merchantId, shardOf(id, table.shards.merchantRequests)),
    [GSI1SK]: timeOrdered(createdAt, id),
  }),
  /** A byMerchant sort key: what a page of the merged list resumes after, in every shard at once. */
  listPosition: (createdAt: string, id: string) => timeOrdered(createdAt, id),
  /** Splits a byMerchant sort key back into its time and id. */
  parsePosition(sortKey: string): { createdAt: string; id: string } {
    const at = sortKey.lastIndexOf('#');
    return { createdAt: sortKey.slice(0, at), id: sortKey.slice(at + 1) };
  },
  /** byMerchant partition of one shard of an endpoint's delivery log. */
  endpointDeliveries: (endpointId: string, shard: number) => `WH#${endpointId}#${shard}`,
  /** Every byMerchant partition an endpoint's delivery log reads. */
  endpointDeliveryPartitions: (endpointId: string): string[] =>
    withUnsharded(`WH#${endpointId}`, table.shards.endpointDeliveries, (shard) => indexKeys.endpointDeliveries(endpointId, shard)),
  /** byStatus partition of one shard of the non-terminal requests in one status. */
  requestsInStatus: (status: RequestStatus, shard: number) => `STATUS#${status}#${shard}`,
  /** Every byStatus partition of a status: what a sweeper queries. */
  statusPartitions: (status: RequestStatus): string[] =>
    withUnsharded(`STATUS#${status}`, table.shards.byStatus, (shard) => indexKeys.requestsInStatus(status, shard)),
  /** byStatus partition of one shard of the pending deliveries, sorted by when the next attempt is due. */
  pendingDeliveries: (shard: number) => `DLV#pending#${shard}`,
  /** Every byStatus partition of pending deliveries. */
  pendingDeliveryPartitions: (): string[] => withUnsharded('DLV#pending', table.shards.byStatus, (shard) => indexKeys.pendingDeliveries(shard)),
  /** byStatus keys of an open request, written at submit and at each move back to `accepted`; the claim leaves them. */
  requestStatus: (id: string, status: RequestStatus, at: string) => ({
    [GSI2PK]: indexKeys.requestsInStatus(status, shardOf(id, table.shards.byStatus)),
    [GSI2SK]: timeOrdered(at, id),
  }),
  /** byStatus keys of a pending delivery, in the shard of its id. */
  pendingDelivery: (id: string, due: string) => ({
    [GSI2PK]: indexKeys.pendingDeliveries(shardOf(id, table.shards.byStatus)),
    [GSI2SK]: timeOrdered(due, id),
  }),
  /** byMerchant keys of a delivery in its endpoint's log, in the shard of the delivery's id. */
  deliveryLogEntry: (endpointId: string, createdAt: string, id: string) => ({
    [GSI1PK]: indexKeys.endpointDeliveries(endpointId, shardOf(id, table.shards.endpointDeliveries)),
    [GSI1SK]: timeOrdered(createdAt, id),
  }),
  /** The attributes to remove when an item leaves the sweepers' sparse index. */
  statusAttributes: [GSI2PK, GSI2SK] as const,
} as const;

/** Every shard's value of a key, then its unsharded value. */
function withUnsharded(unsharded: string, count: number, sharded: (shard: number) => string): string[] {
  return [...allShards(count).map(sharded), unsharded];
}

/**
 * The byStatus sort time of an open request: when its retry is due or, failing that, its last
 * change. Only submit and a move back to `accepted` write it; the claim leaves the entry alone,
 * so a `processing` request keeps this time (docs/data-model.md). A `processing` request given
 * here (a table written before that) is sorted by its lease end, as such entries were.
 */
export function sweepTimeOf(request: Pick<HeraldRequest, 'status' | 'updatedAt'> & Partial<Pick<HeraldRequest, 'leaseUntil' | 'nextAttemptAt'>>): string {
  if (request.status === 'processing' && request.leaseUntil) return request.leaseUntil;
  return request.nextAttemptAt ?? request.updatedAt;
}

/** Copies the fields present on an item; absent ones stay absent rather than becoming undefined. */
function present<T, K extends keyof T & string>(item: Item, fields: readonly K[]): Partial<Pick<T, K>> {
  const copy: Partial<Pick<T, K>> = {};
  for (const field of fields) if (item[field] !== undefined) copy[field] = item[field];
  return copy;
}

/** A new request's item: listed under its merchant, and in the sweepers' index until it is finished. */
export function requestToItem(request: HeraldRequest): Item {
  return {
    ...keys.request(request.id),
    ...request,
    ...(request.payload !== undefined ? { payload: inlineBody(request.payload).stored } : {}),
    ...(request.result !== undefined ? { result: inlineBody(request.result).stored } : {}),
    ...indexKeys.requestListing(request.merchantId, request.createdAt, request.id),
    ...(isTerminal(request.status) ? {} : indexKeys.requestStatus(request.id, request.status, sweepTimeOf(request))),
  };
}

/**
 * A request as the domain knows it: keys, index attributes and the TTL stay behind. A payload or
 * result stored apart is not here: `RequestBodies` (request-bodies.ts) reads it where needed.
 */
export function requestFromItem(item: Item): HeraldRequest {
  return {
    id: item.id,
    merchantId: item.merchantId,
    type: item.type,
    status: item.status,
    version: item.version,
    attempts: item.attempts,
    idempotencyKey: item.idempotencyKey,
    webhookEvents: item.webhookEvents,
    history: item.history ?? [],
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    ...present<
      HeraldRequest,
      | 'traceId'
      | 'notify'
      | 'error'
      | 'leaseUntil'
      | 'nextAttemptAt'
      | 'enqueuedAt'
      | 'redriveGeneration'
      | 'failedAtRedrive'
      | 'holdsQuotaSlot'
      | 'callback'
      | 'orderingKey'
      | 'orderingSeq'
    >(item, [
      'traceId',
      'notify',
      'error',
      'leaseUntil',
      'nextAttemptAt',
      'enqueuedAt',
      'redriveGeneration',
      'failedAtRedrive',
      'holdsQuotaSlot',
      'callback',
      'orderingKey',
      'orderingSeq',
    ]),
    ...(item.payload !== undefined ? { payload: readInlineBody(item.payload) as HeraldRequest['payload'] } : {}),
    ...(item.result !== undefined ? { result: readInlineBody(item.result) } : {}),
  };
}

/**
 * A request as submitted: the request item plus the fingerprint of the body that created it.
 * The id derives from (merchant, idempotency key), so this item is also the key's record: a
 * replay reads the fingerprint off the failed conditional put instead of a separate item. A
 * payload stored apart leaves only its reference here: the fingerprint names its item.
 */
export function submissionToItem(request: HeraldRequest, fingerprint: string, payloadApart?: { inObject: boolean }): Item {
  const item: Item = requestToItem(request);
  if (!payloadApart) return { ...item, fingerprint: storedFingerprint(fingerprint) };
  // The reference is the fingerprint already: one copy of it is enough.
  const { payload: _payload, ...rest } = item;
  return { ...rest, [PAYLOAD_REF]: fingerprint, ...(payloadApart.inObject ? { [PAYLOAD_IN_OBJECT]: true } : {}) };
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** A SHA-256 digest as its 32 bytes (Binary) rather than 64 hex characters: 32 B less on every write of the item. */
function storedFingerprint(fingerprint: string): string | Uint8Array {
  return SHA256_HEX.test(fingerprint) ? new Uint8Array(Buffer.from(fingerprint, 'hex')) : fingerprint;
}

/** Attributes of a request item that point at its payload or result stored apart. */
export const PAYLOAD_REF = 'payloadRef';
export const RESULT_REF = 'resultRef';
/** Set beside a reference when the body is an object of the bodies bucket rather than an item of the table. */
export const PAYLOAD_IN_OBJECT = 'payloadInObject';
export const RESULT_IN_OBJECT = 'resultInObject';

/** The fingerprint however it was stored: 32 bytes, hex text (items written before), or only as the payload's reference. */
export function fingerprintFromItem(item: Item): string {
  const stored: unknown = item.fingerprint ?? item[PAYLOAD_REF];
  if (stored instanceof Uint8Array) return Buffer.from(stored).toString('hex');
  return String(stored ?? '');
}

export function merchantToItem(merchant: Merchant): Item {
  return { ...keys.merchant(merchant.id), ...merchant };
}

export function merchantFromItem(item: Item): Merchant {
  return { id: item.id, name: item.name, createdAt: item.createdAt, ...present<Merchant, 'email'>(item, ['email']) };
}

/** Both copies of an API key: the lookup by digest and the listing under the merchant. */
export function apiKeyToItems(record: ApiKeyRecord): [lookup: Item, listing: Item] {
  return [
    { ...keys.apiKey(record.keyHash), ...record },
    { ...keys.merchantApiKey(record.merchantId, record.keyId), ...record },
  ];
}

export function apiKeyFromItem(item: Item): ApiKeyRecord {
  return {
    keyHash: item.keyHash,
    keyId: item.keyId,
    merchantId: item.merchantId,
    hint: item.hint,
    createdAt: item.createdAt,
    ...present<ApiKeyRecord, 'revokedAt'>(item, ['revokedAt']),
  };
}

/** The endpoint's item of the main table: everything but its signing secrets. */
export function endpointToItem(endpoint: EndpointSettings & Partial<Pick<WebhookEndpoint, 'secret' | 'previousSecret'>>): Item {
  const { secret: _secret, previousSecret: _previous, ...settings } = endpoint;
  return { ...keys.endpoint(endpoint.merchantId, endpoint.id), ...settings };
}

/** The endpoint's item of the secrets table: the current secret and the previous one until it expires. */
export function endpointSecretsToItem(endpoint: WebhookEndpoint): Item {
  return {
    ...keys.endpointSecrets(endpoint.merchantId, endpoint.id),
    secret: endpoint.secret,
    ...(endpoint.previousSecret ? { previousSecret: endpoint.previousSecret } : {}),
  };
}

export function endpointFromItem(item: Item): EndpointSettings {
  return {
    id: item.id,
    merchantId: item.merchantId,
    url: item.url,
    status: item.status,
    version: item.version,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    ...present<EndpointSettings, 'description' | 'eventTypes' | 'rateLimitPerSecond' | 'filter' | 'payloadMode' | 'signatureScheme' | 'publicKey' | 'previousPublicKey' | 'disabledReason' | 'disabledAt' | 'failingSince' | 'lastSuccessAt'>(
      item,
      ['description', 'eventTypes', 'rateLimitPerSecond', 'filter', 'payloadMode', 'signatureScheme', 'publicKey', 'previousPublicKey', 'disabledReason', 'disabledAt', 'failingSince', 'lastSuccessAt'],
    ),
  };
}

/** The endpoint joined with its secrets item. */
export function endpointWithSecrets(settings: EndpointSettings, secrets: Item): WebhookEndpoint {
  return {
    ...settings,
    secret: secrets.secret,
    ...present<WebhookEndpoint, 'previousSecret'>(secrets, ['previousSecret']),
  };
}

export function deliveryToItem(delivery: Delivery): Item {
  return {
    ...keys.delivery(delivery.subjectId, delivery.endpointId, delivery.eventType),
    ...delivery,
    // A callback has no endpoint log: every merchant's callbacks would share its partitions.
    ...(isCallbackTarget(delivery.endpointId) ? {} : indexKeys.deliveryLogEntry(delivery.endpointId, delivery.createdAt, delivery.id)),
    // Written by its first attempt's outcome: still pending, it is in the sweeper's index until an
    // attempt finishes it; already finished, it never enters it.
    ...(delivery.state === 'pending' ? indexKeys.pendingDelivery(delivery.id, delivery.nextAttemptAt ?? delivery.createdAt) : {}),
  };
}

export function deliveryFromItem(item: Item): Delivery {
  return {
    id: item.id,
    merchantId: item.merchantId,
    endpointId: item.endpointId,
    subjectId: item.subjectId,
    eventType: item.eventType,
    eventTimestamp: item.eventTimestamp,
    state: item.state,
    round: item.round,
    attempts: item.attempts ?? [],
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    ...present<Delivery, 'nextAttemptAt' | 'reason' | 'traceId' | 'deadAtRedrive' | 'ordering' | 'orderWait'>(item, [
      'nextAttemptAt',
      'reason',
      'traceId',
      'deadAtRedrive',
      'ordering',
      'orderWait',
    ]),
  };
}

export function notificationFromItem(item: Item): NotificationRecord {
  return {
    audience: item.audience,
    channel: item.channel,
    event: item.event,
    to: item.to,
    state: item.state,
    attempts: item.attempts,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    ...(item.reason ? { reason: item.reason } : {}),
    ...present<NotificationRecord, 'retryable'>(item, ['retryable']),
  };
}

export function recipientToItem(subscription: RecipientSubscription, updatedAt: string): Item {
  return {
    ...keys.recipient(subscription.address),
    subscriptionArn: subscription.subscriptionArn,
    confirmed: subscription.confirmed,
    updatedAt,
  };
}

/** The address is the key's own (lower-cased), so the caller passes the one it asked for. */
export function recipientFromItem(address: string, item: Item): RecipientSubscription {
  return { address, subscriptionArn: item.subscriptionArn, confirmed: item.confirmed === true };
}

export function contactsToItem(contacts: OperationsContacts): Item {
  return { ...keys.operationsContacts(contacts.merchantId), ...contacts };
}

export function contactsFromItem(item: Item): OperationsContacts {
  return {
    merchantId: item.merchantId,
    events: item.events ?? [],
    subscriptions: item.subscriptions ?? {},
    updatedAt: item.updatedAt,
    ...present<OperationsContacts, 'email' | 'sms'>(item, ['email', 'sms']),
  };
}

export function ledgerEntryToItem(merchantId: string, entry: LedgerEntry): Item {
  return { ...keys.ledgerEntry(merchantId, entry.reference, entry.entry), ...entry, merchantId };
}

export function ledgerEntryFromItem(item: Item): LedgerEntry {
  return {
    reference: item.reference,
    entry: item.entry,
    walletId: item.walletId,
    amountCents: item.amountCents,
    at: item.at,
    ...present<LedgerEntry, 'note'>(item, ['note']),
  };
}

export function walletFromItem(walletId: string, item: Item): Wallet {
  return { walletId, balanceCents: Number(item.balanceCents ?? 0), updatedAt: String(item.updatedAt) };
}

/** A queue's redrive generation; 0 before its first redrive. */
export function redriveGenerationFromItem(item: Item | undefined): number {
  return typeof item?.generation === 'number' ? item.generation : 0;
}
