/**
 * AWS list prices for us-east-1, each in dollars per unit with the month its pricing page was
 * read. Free tiers are left out: a figure per million requests should hold for a busy account.
 * Re-read the pages before trusting a dollar figure much later.
 *
 * | line                               | price                       | page                          | read    |
 * |------------------------------------|-----------------------------|-------------------------------|---------|
 * | HTTP API request                   | $1.00 per million           | API Gateway pricing           | 2025-05 |
 * | Lambda request                     | $0.20 per million           | Lambda pricing                | 2025-05 |
 * | Lambda arm64 duration and init     | $0.0000133334 per GB-s      | Lambda pricing (init billed   | 2025-08 |
 * |                                    |                             | since 1 August 2025)          |         |
 * | SQS standard request (64 KB)       | $0.40 per million           | SQS pricing                   | 2025-05 |
 * | DynamoDB on-demand write unit      | $0.625 per million          | DynamoDB on-demand pricing    | 2025-05 |
 * | DynamoDB on-demand read unit       | $0.125 per million          | DynamoDB on-demand pricing    | 2025-05 |
 * | DynamoDB provisioned write unit    | $0.00065 per WCU-hour       | DynamoDB provisioned pricing  | 2025-08 |
 * | DynamoDB provisioned read unit     | $0.00013 per RCU-hour       | DynamoDB provisioned pricing  | 2025-08 |
 * | DynamoDB storage (standard class)  | $0.25 per GB-month          | DynamoDB pricing              | 2025-08 |
 * | DynamoDB point-in-time recovery    | $0.20 per GB-month          | DynamoDB pricing              | 2025-08 |
 * | SNS publish (64 KB)                | $0.50 per million           | SNS pricing                   | 2025-05 |
 * | CloudWatch Logs ingestion          | $0.50 per GB                | CloudWatch pricing            | 2025-05 |
 * | CloudWatch standard alarm          | $0.10 per alarm-month       | CloudWatch pricing            | 2025-08 |
 * | CloudWatch custom metric           | $0.30 per metric-month      | CloudWatch pricing            | 2025-08 |
 * | CloudWatch dashboard               | $3.00 per dashboard-month   | CloudWatch pricing            | 2025-08 |
 * | KMS customer managed key           | $1.00 per key-month         | KMS pricing                   | 2025-08 |
 * | Secrets Manager secret             | $0.40 per secret-month      | Secrets Manager pricing       | 2025-08 |
 * | WAF web ACL / rule / request       | $5.00 / $1.00 per month,    | WAF pricing                   | 2025-08 |
 * |                                    | $0.60 per million requests  |                               |         |
 * | Data transfer out to the internet  | $0.09 per GB (first 10 TB)  | EC2 data transfer pricing     | 2025-08 |
 * | X-Ray trace recorded               | $5.00 per million           | X-Ray pricing                 | 2025-05 |
 * | S3 Standard PUT (and POST, LIST)   | $0.005 per 1,000            | S3 pricing                    | 2026-12 |
 * | S3 Standard GET                    | $0.0004 per 1,000           | S3 pricing                    | 2026-12 |
 * | S3 Standard storage (first 50 TB)  | $0.023 per GB-month         | S3 pricing                    | 2026-12 |
 */
export const PRICES_REGION = 'us-east-1';
/** The month the oldest line of the table was read. */
export const PRICES_READ = '2025-05';

export interface Price {
  readonly dollars: number;
  readonly unit: string;
  /** The month AWS's pricing page was read for this price. */
  readonly read: string;
}

export const PRICES = {
  /** API Gateway HTTP API: per request (each 512 KB of a request counts as one), first 300 million a month. */
  httpApiRequest: { dollars: 1.0 / 1e6, unit: 'request', read: '2025-05' },
  /** Lambda: per invocation. */
  lambdaRequest: { dollars: 0.2 / 1e6, unit: 'invocation', read: '2025-05' },
  /**
   * Lambda on arm64: per GB-second of configured memory × billed duration (1 ms granularity),
   * first tier. Since August 2025 the init phase of a managed runtime is billed at the same rate.
   */
  lambdaArmGbSecond: { dollars: 0.0000133334, unit: 'GB-second', read: '2025-08' },
  /** SQS standard queue: per request, each 64 KB chunk of its payload a request (sends, receives, deletes). */
  sqsRequest: { dollars: 0.4 / 1e6, unit: '64 KB request', read: '2025-05' },
  /** DynamoDB on demand (standard table class): per write request unit (1 KB; a transactional write costs 2). */
  dynamoWriteUnit: { dollars: 0.625 / 1e6, unit: 'write request unit', read: '2025-05' },
  /** DynamoDB on demand: per read request unit (4 KB strongly consistent; eventually consistent costs half). */
  dynamoReadUnit: { dollars: 0.125 / 1e6, unit: 'read request unit', read: '2025-05' },
  /** DynamoDB provisioned capacity: per write capacity unit (one 1 KB write a second) per hour. */
  dynamoProvisionedWriteUnitHour: { dollars: 0.00065, unit: 'WCU-hour', read: '2025-08' },
  /** DynamoDB provisioned capacity: per read capacity unit (one 4 KB strong read a second) per hour. */
  dynamoProvisionedReadUnitHour: { dollars: 0.00013, unit: 'RCU-hour', read: '2025-08' },
  /** DynamoDB storage, standard table class: per GB-month, item and index bytes with 100 bytes of overhead each. */
  dynamoStorageGbMonth: { dollars: 0.25, unit: 'GB-month', read: '2025-08' },
  /** DynamoDB continuous backups (point-in-time recovery): per GB-month of table size. */
  dynamoPitrGbMonth: { dollars: 0.2, unit: 'GB-month', read: '2025-08' },
  /** SNS standard topic: per publish, each 64 KB chunk a request. */
  snsPublish: { dollars: 0.5 / 1e6, unit: '64 KB publish', read: '2025-05' },
  /** CloudWatch Logs, standard class: per GB ingested (Lambda's logs and API Gateway's access logs, first tier). */
  logsIngestedGb: { dollars: 0.5, unit: 'GB ingested', read: '2025-05' },
  /** CloudWatch: per standard-resolution alarm per month. */
  alarmMonth: { dollars: 0.1, unit: 'alarm-month', read: '2025-08' },
  /** CloudWatch: per custom metric (name and dimension set) per month, first 10,000. */
  customMetricMonth: { dollars: 0.3, unit: 'metric-month', read: '2025-08' },
  /** CloudWatch: per dashboard per month beyond the account's first three (counted as paid here). */
  dashboardMonth: { dollars: 3.0, unit: 'dashboard-month', read: '2025-08' },
  /** KMS: per customer managed key per month (rotated keys included); its requests are under the free 20,000 at this use. */
  kmsKeyMonth: { dollars: 1.0, unit: 'key-month', read: '2025-08' },
  /** Secrets Manager: per secret per month. */
  secretMonth: { dollars: 0.4, unit: 'secret-month', read: '2025-08' },
  /** WAF: per web ACL per month, per rule per month, per million requests inspected. */
  wafWebAclMonth: { dollars: 5.0, unit: 'web ACL-month', read: '2025-08' },
  wafRuleMonth: { dollars: 1.0, unit: 'rule-month', read: '2025-08' },
  wafRequest: { dollars: 0.6 / 1e6, unit: 'request', read: '2025-08' },
  /** Data transfer out of AWS to the internet, first 10 TB a month past the free 100 GB. */
  dataTransferOutGb: { dollars: 0.09, unit: 'GB out', read: '2025-08' },
  /** S3 Standard: per PUT, COPY, POST or LIST request. */
  s3PutRequest: { dollars: 0.005 / 1000, unit: 'PUT request', read: '2026-12' },
  /** S3 Standard: per GET (and every other read) request. */
  s3GetRequest: { dollars: 0.0004 / 1000, unit: 'GET request', read: '2026-12' },
  /** S3 Standard storage: per GB-month, first 50 TB (no minimum object size or duration in this class). */
  s3StorageGbMonth: { dollars: 0.023, unit: 'GB-month', read: '2026-12' },
  /** X-Ray: per trace recorded. */
  xrayTrace: { dollars: 5.0 / 1e6, unit: 'trace recorded', read: '2025-05' },
} as const satisfies Record<string, Price>;
