import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoRequestIntake } from './dynamo/request-intake-store';
import { DynamoRequestLifecycle } from './dynamo/request-lifecycle-store';
import { RequestBodies } from './dynamo/request-bodies';
import { DynamoRequestQueries } from './dynamo/request-queries';
import { DynamoRequestSweeperStore } from './dynamo/request-sweeper-store';
import type { S3RequestBodies } from './s3-request-bodies';

/** The request ports over one table; each caller takes the ones it uses. */
export interface DynamoRequestPorts {
  readonly intake: DynamoRequestIntake;
  readonly lifecycle: DynamoRequestLifecycle;
  readonly queries: DynamoRequestQueries;
  readonly sweeper: DynamoRequestSweeperStore;
}

/**
 * Builds every request port over one table. Intake, lifecycle and queries share one
 * `RequestBodies`, so a payload or result stored apart by one is read back the same way by the others.
 * With `bodyObjects`, bodies over the inline bound are kept in the bodies bucket.
 */
export function dynamoRequestPorts(client: DynamoDBDocumentClient, tableName: string, requestRetentionDays: number, bodyObjects?: S3RequestBodies): DynamoRequestPorts {
  const bodies = new RequestBodies(client, tableName, requestRetentionDays, bodyObjects);
  return {
    intake: new DynamoRequestIntake(client, tableName, bodies, requestRetentionDays),
    lifecycle: new DynamoRequestLifecycle(client, tableName, requestRetentionDays, bodies),
    queries: new DynamoRequestQueries(client, tableName, bodies),
    sweeper: new DynamoRequestSweeperStore(client, tableName),
  };
}
