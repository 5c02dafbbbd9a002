/** The table's and the secrets table's keys, indexes and shards, and the partitions IAM conditions name. */

export const table = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
  /**
   * Both indexes project keys only: an update that leaves an item's index keys alone then writes
   * no index entry, and readers fetch the items by key (BatchGetItem). Changing a projection
   * replaces the index on deploy (docs/stack.md).
   */
  indexes: {
    /** A merchant's requests, newest first: gsi1pk = MER#<merchantId>#<shard>, gsi1sk = createdAt#id. */
    byMerchant: { name: 'byMerchant', partitionKey: 'gsi1pk', sortKey: 'gsi1sk', projection: 'KEYS_ONLY' },
    /** Open work for the sweepers: gsi2pk = STATUS#<status>#<shard> or DLV#pending#<shard>, gsi2sk = sweep time#id. */
    byStatus: { name: 'byStatus', partitionKey: 'gsi2pk', sortKey: 'gsi2sk', projection: 'KEYS_ONLY' },
  },
  /**
   * How many partition key values each shared index key is spread over (docs/data-model.md,
   * docs/scale.md). DynamoDB serves 1,000 write units a second per value: a request writes its
   * byStatus shard about twice per status it passes, its merchant's list shard once, and its
   * endpoint's delivery-log shard once, so these counts put the table's ceiling above 20,000
   * requests a second and one merchant's above 5,000. Readers query every shard, so each list
   * page and each sweep costs one query per shard. Changing a count moves where new items land:
   * readers would miss items written under the old count, so it is a migration, not a setting.
   */
  shards: {
    /** `STATUS#accepted`, `STATUS#processing` and `DLV#pending`: every open item of the service. */
    byStatus: 128,
    /** `MER#<merchantId>`: every request of one merchant. */
    merchantRequests: 16,
    /** `WH#<endpointId>`: every delivery to one endpoint. */
    endpointDeliveries: 16,
  },
} as const;

/**
 * The webhook signing secrets, apart from the table every function reads: one item per endpoint,
 * keyed like the endpoint (lambdas/adapters/dynamo/keys.ts), no indexes, no TTL.
 */
export const secretsTable = {
  partitionKey: 'pk',
  sortKey: 'sk',
} as const;

/**
 * Partition keys that IAM conditions name (`dynamodb:LeadingKeys`): the grants below and the
 * adapters' keys module (lambdas/adapters/dynamo/keys.ts) spell them from here, once.
 */
export const keyPartitions = {
  /** Followed by the merchant id: a merchant's event stream slots, in the table. */
  eventStreamSlots: 'STREAMS#',
  /** The status token secret's one item, in the secrets table. */
  statusTokenSecret: 'CONFIG#status-token-secret',
  /** The key that seals delivery messages' one item, in the secrets table. */
  deliveryMessageKey: 'CONFIG#delivery-message-key',
} as const;

/**
 * The bodies bucket: payloads and results too large for the table, one JSON object each, keyed
 * `<kind>/<merchantId>/<requestId>/<name>` (lambdas/adapters/s3-request-bodies.ts). The kind leads
 * so that lifecycle rules and IAM grants name one kind by prefix.
 */
export const bodyKinds = ['payload', 'result'] as const;
export type BodyKind = (typeof bodyKinds)[number];
