import { DynamoDBClient, paginateScan, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { paginateListObjectsV2, S3Client } from '@aws-sdk/client-s3';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { HeraldStack } from '../../lib/herald-stack';
import { METRICS } from '../../lambdas/settings/observability';
import { bodyKinds, table, type BodyKind } from '../../lambdas/settings/storage';
import { type FunctionName } from '../../lib/topology';
import { itemBytes } from './aws-call-meter';
import { PRICES } from './aws-prices';

/** DynamoDB bills 100 bytes of overhead on every item and every index entry it stores. */
const STORAGE_OVERHEAD_BYTES = 100;
const DAYS_PER_MONTH = 365 / 12;
const HOURS_PER_MONTH = 730;
/** CloudWatch Logs' metadata on each event ingested. */
const LOG_EVENT_OVERHEAD_BYTES = 26;

/**
 * Module initialisation of each deployed bundle, median wall ms of `npm run bench:coldstart`
 * (2026-12-03, docs/performance.md). Lambda bills the init phase of a managed runtime since
 * August 2025; the runtime's own start before the module load is left out.
 */
export const INIT_MS: Partial<Record<FunctionName, number>> = {
  authorizer: 152.5,
  submit: 181.7,
  status: 152.2,
  process: 171.0,
  deliver: 188.8,
};

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/** What the deployed stack holds that is billed by the month or shapes a per-request line. */
export interface StackBill {
  readonly alarms: number;
  readonly dashboards: number;
  readonly kmsKeys: number;
  readonly secrets: number;
  readonly webAcls: number;
  readonly wafRules: number;
  /** Herald's own custom metrics: each name once per dimension set (`service`). */
  readonly customMetrics: number;
  /** The stage's access-log format, `$context` variables unrendered. */
  readonly accessLogFormat?: string;
  /** Tables with point-in-time recovery on. */
  readonly pitrTables: number;
}

/**
 * Reads the billed resources from the stack as `cdk synth` would render it (bundling skipped):
 * adding an alarm or a key to the stack changes the fixed lines without touching the benchmark.
 */
export function readStackBill(): StackBill {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const resources = Object.values((Template.fromStack(new HeraldStack(app, 'Herald')).toJSON() as { Resources: Record<string, Resource> }).Resources);
  const count = (type: string) => resources.filter((resource) => resource.Type === type).length;
  const stage = resources.find((resource) => resource.Type === 'AWS::ApiGatewayV2::Stage');
  const format = (stage?.Properties?.AccessLogSettings as { Format?: unknown } | undefined)?.Format;
  const webAcls = resources.filter((resource) => resource.Type === 'AWS::WAFv2::WebACL');
  return {
    alarms: count('AWS::CloudWatch::Alarm'),
    dashboards: count('AWS::CloudWatch::Dashboard'),
    kmsKeys: count('AWS::KMS::Key'),
    secrets: count('AWS::SecretsManager::Secret'),
    webAcls: webAcls.length,
    wafRules: webAcls.reduce((sum, acl) => sum + ((acl.Properties?.Rules as unknown[] | undefined)?.length ?? 0), 0),
    customMetrics: Object.keys(METRICS).length,
    ...(typeof format === 'string' ? { accessLogFormat: format } : {}),
    pitrTables: resources.filter(
      (resource) =>
        resource.Type === 'AWS::DynamoDB::Table' &&
        (resource.Properties?.PointInTimeRecoverySpecification as { PointInTimeRecoveryEnabled?: boolean } | undefined)?.PointInTimeRecoveryEnabled,
    ).length,
  };
}

/** Typical values of the `$context` variables an access-log line carries, at their usual lengths. */
const CONTEXT_EXAMPLES: Record<string, string> = {
  requestId: 'ZxQ3kLm2oAMEVbA=',
  routeKey: 'POST /v1/requests',
  status: '202',
  responseLatency: '38',
  integrationLatency: '31',
  integrationErrorMessage: '-',
  'authorizer.error': '-',
  'identity.sourceIp': '203.0.113.24',
  requestTime: '05/Dec/2026:06:00:00 +0000',
};

/** One access-log event's ingested bytes: the format rendered with typical values, plus CloudWatch's metadata. */
export function accessLogLineBytes(format: string): number {
  const rendered = format.replace(/\$context\.([A-Za-z.]+)/g, (_, name: string) => CONTEXT_EXAMPLES[name] ?? '-');
  return Buffer.byteLength(rendered) + LOG_EVENT_OVERHEAD_BYTES;
}

export interface MonthlyLine {
  readonly label: string;
  readonly dollarsPerMonth: number;
  readonly read: string;
}

/** The stack's fixed monthly lines, each with its count and price. */
export function fixedMonthlyLines(bill: StackBill): MonthlyLine[] {
  const line = (label: string, count: number, price: { dollars: number; read: string }): MonthlyLine => ({
    label: `${label} (${count} × $${price.dollars.toFixed(2)})`,
    dollarsPerMonth: count * price.dollars,
    read: price.read,
  });
  const lines = [
    line('CloudWatch alarms', bill.alarms, PRICES.alarmMonth),
    line('CloudWatch custom metrics', bill.customMetrics, PRICES.customMetricMonth),
    line('KMS keys', bill.kmsKeys, PRICES.kmsKeyMonth),
    line('CloudWatch dashboards', bill.dashboards, PRICES.dashboardMonth),
  ];
  if (bill.secrets > 0) lines.push(line('Secrets Manager secrets', bill.secrets, PRICES.secretMonth));
  if (bill.webAcls > 0) {
    lines.push(line('WAF web ACLs', bill.webAcls, PRICES.wafWebAclMonth), line('WAF rules', bill.wafRules, PRICES.wafRuleMonth));
  }
  return lines;
}

/** The bytes a table stores, by what keeps them: a request's own items and the delivery records beside it. */
export interface Footprint {
  readonly requestBytes: number;
  readonly deliveryBytes: number;
  readonly otherBytes: number;
}

/**
 * Scans a table with a client of its own (so the meter on the handlers' clients does not count
 * it) and sums the billed bytes: each item, each index entry (keys only: the table's and the
 * index's keys), 100 bytes of overhead on each.
 */
export async function tableFootprint(tableName: string): Promise<Footprint> {
  const client = new DynamoDBClient({});
  let requestBytes = 0;
  let deliveryBytes = 0;
  let otherBytes = 0;
  try {
    for await (const page of paginateScan({ client }, { TableName: tableName })) {
      for (const item of page.Items ?? []) {
        let bytes = itemBytes(item) + STORAGE_OVERHEAD_BYTES;
        for (const index of Object.values(table.indexes)) {
          const keys = [table.partitionKey, table.sortKey, index.partitionKey, index.sortKey];
          if (!(index.partitionKey in item && index.sortKey in item)) continue;
          bytes += itemBytes(Object.fromEntries(keys.map((key) => [key, item[key] as AttributeValue]))) + STORAGE_OVERHEAD_BYTES;
        }
        const pk = item[table.partitionKey]?.S ?? '';
        const sk = item[table.sortKey]?.S ?? '';
        if (pk.startsWith('REQ#') && sk.startsWith('DLV#')) deliveryBytes += bytes;
        else if (pk.startsWith('REQ#')) requestBytes += bytes;
        else otherBytes += bytes;
      }
    }
  } finally {
    client.destroy();
  }
  return { requestBytes, deliveryBytes, otherBytes };
}

/**
 * The bytes the bodies bucket holds, by kind, listed with a client of its own (so the meter does
 * not count it). S3 Standard bills an object's size; its key and metadata are not billed apart.
 */
export async function bucketFootprint(bucket: string): Promise<Record<BodyKind, number>> {
  const client = new S3Client({ forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined });
  const bytes = { payload: 0, result: 0 } as Record<BodyKind, number>;
  try {
    for (const kind of bodyKinds) {
      for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket, Prefix: `${kind}/` })) {
        for (const object of page.Contents ?? []) bytes[kind] += object.Size ?? 0;
      }
    }
  } finally {
    client.destroy();
  }
  return bytes;
}

/** Dollars of S3 Standard storage for `bytes` kept `days` (the bucket's lifecycle rule for their kind). */
export function objectStorageDollars(bytes: number, days: number): number {
  return (bytes / 1024 ** 3) * (days / DAYS_PER_MONTH) * PRICES.s3StorageGbMonth.dollars;
}

/** Dollars of storage and point-in-time recovery for `bytes` kept `days`. */
export function storageDollars(bytes: number, days: number, pitr: boolean): { storage: number; pitr: number } {
  const gbMonths = (bytes / 1024 ** 3) * (days / DAYS_PER_MONTH);
  return { storage: gbMonths * PRICES.dynamoStorageGbMonth.dollars, pitr: pitr ? gbMonths * PRICES.dynamoPitrGbMonth.dollars : 0 };
}

/** Dollars per million units consumed steadily on provisioned capacity at `utilisation` of what is provisioned. */
export function provisionedDollarsPerMillionUnits(unitHour: { dollars: number }, utilisation: number): number {
  const unitsPerMonthAtFull = HOURS_PER_MONTH * 3600;
  return ((unitHour.dollars * HOURS_PER_MONTH) / unitsPerMonthAtFull / utilisation) * 1e6;
}
