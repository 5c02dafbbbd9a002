/**
 * AWS list prices for us-east-1, as published on AWS's pricing pages in May 2025 (the month they
 * were read), each in dollars per unit. Free tiers are left out: a figure per million requests
 * should hold for a busy account. Re-read the pages before trusting a dollar figure much later.
 */
export const PRICES_READ = '2025-05';
export const PRICES_REGION = 'us-east-1';

export const PRICES = {
  /** API Gateway HTTP API: per request (each 512 KB of a request counts as one), first 300 million a month. */
  httpApiRequest: { dollars: 1.0 / 1e6, unit: 'request' },
  /** Lambda: per invocation. */
  lambdaRequest: { dollars: 0.2 / 1e6, unit: 'invocation' },
  /** Lambda on arm64: per GB-second of configured memory × billed duration (1 ms granularity), first tier. */
  lambdaArmGbSecond: { dollars: 0.0000133334, unit: 'GB-second' },
  /** SQS standard queue: per request, each 64 KB chunk of its payload a request (sends, receives, deletes). */
  sqsRequest: { dollars: 0.4 / 1e6, unit: '64 KB request' },
  /** DynamoDB on demand (standard table class): per write request unit (1 KB; a transactional write costs 2). */
  dynamoWriteUnit: { dollars: 0.625 / 1e6, unit: 'write request unit' },
  /** DynamoDB on demand: per read request unit (4 KB strongly consistent; eventually consistent costs half). */
  dynamoReadUnit: { dollars: 0.125 / 1e6, unit: 'read request unit' },
  /** SNS standard topic: per publish, each 64 KB chunk a request. */
  snsPublish: { dollars: 0.5 / 1e6, unit: '64 KB publish' },
  /** CloudWatch Logs, standard class: per GB ingested (Lambda's own logs, first tier). */
  logsIngestedGb: { dollars: 0.5, unit: 'GB ingested' },
  /** X-Ray: per trace recorded. */
  xrayTrace: { dollars: 5.0 / 1e6, unit: 'trace recorded' },
} as const;
