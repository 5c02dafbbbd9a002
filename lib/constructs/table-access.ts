import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { keys } from '../../lambdas/adapters/dynamo/keys';
import type { FunctionName } from '../topology';

/**
 * What each function may do in the main table. No function scans it (only the local runtime does,
 * at start), so `Scan` is in no grant. Where a function works only on some kinds of items, the
 * grant names their partition keys (`dynamodb:LeadingKeys`): a public route or a key check that
 * is tricked into asking for another item is refused by IAM itself, not only by the code.
 *
 * The patterns come from the key map, so a changed key format changes the grant with it. Index
 * queries are checked the same way, on the index's partition key.
 */
const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'];
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

/** A request's item and everything kept beside it (payload, results, deliveries, notifications). */
const REQUESTS = keys.request('*').pk;
/** A merchant's partition: the merchant, its quotas, its operations contacts; also its byMerchant index partition. */
const MERCHANTS = keys.merchant('*').pk;
/** API keys, found by the digest of the presented key. */
const API_KEYS = keys.apiKey('*').pk;
/** Ordering keys' numbers: a submit with `orderingKey` draws one, a cancel gives its number up. */
const ORDERING_KEYS = keys.orderingKey('*', '*').pk;

export interface TableKeySpace {
  readonly leadingKeys: readonly string[];
}

/**
 * The functions that read or write only some partitions, and which. A function absent here
 * (the workers, the sweepers, the webhooks API, the event stream) reaches every partition, as its
 * work spans them; it still cannot scan.
 */
export const TABLE_KEY_SPACES: Partial<Record<FunctionName, TableKeySpace>> = {
  authorizer: { leadingKeys: [API_KEYS] },
  // Stores a request and its payload, counts the merchant's quotas, numbers an ordered request (the status token secret is in the secrets table).
  submit: { leadingKeys: [REQUESTS, MERCHANTS, ORDERING_KEYS] },
  status: { leadingKeys: [REQUESTS] },
  // Queries byMerchant (partition MER#…), then fetches the requests it lists.
  list: { leadingKeys: [MERCHANTS, REQUESTS] },
  // Cancels a request and gives back its in-flight slot and its ordering number.
  cancel: { leadingKeys: [REQUESTS, MERCHANTS, ORDERING_KEYS] },
  statusPage: { leadingKeys: [REQUESTS] },
  // The merchant's operations contacts.
  notifications: { leadingKeys: [MERCHANTS] },
};

/** The policy statements of a function's access to the main table: reads, writes if granted, never a scan. */
export function tableStatements(table: ITable, name: FunctionName, access: 'read' | 'readWrite'): PolicyStatement[] {
  const space = TABLE_KEY_SPACES[name];
  return [
    new PolicyStatement({
      actions: access === 'readWrite' ? [...READ_ACTIONS, ...WRITE_ACTIONS] : READ_ACTIONS,
      resources: [table.tableArn, `${table.tableArn}/index/*`],
      // ForAllValues: every key the call names must match; a call naming none (a scan) is not among these actions.
      ...(space ? { conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...space.leadingKeys] } } } : {}),
    }),
  ];
}
