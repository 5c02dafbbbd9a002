import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ApplyOutcome, ApplyReads, CreateOutcome, ListPosition, RequestListing, RequestPage, RequestStore, StuckRequestStore, UnfinishedRequests } from '../core/requests/ports';
import type { LifecyclePolicy, Transition } from '../core/requests/lifecycle-events';
import type { HeraldRequest, RequestStatus } from '../core/requests/request';
import { DynamoRequestIntake } from './dynamo/request-intake-store';
import { DynamoRequestLifecycle } from './dynamo/request-lifecycle-store';
import { RequestBodies } from './dynamo/request-bodies';
import { DynamoRequestQueries } from './dynamo/request-queries';
import { DynamoRequestSweeperStore } from './dynamo/request-sweeper-store';
import type { S3RequestBodies } from './s3-request-bodies';

/**
 * Every request port over one table, for callers that want them as one object (the handlers'
 * dependencies, the CLI, the tests). Each port lives in its own module under `dynamo/`; this
 * class only forwards, so it holds no DynamoDB logic of its own.
 */
export class DynamoRequestStore implements RequestStore, RequestListing, StuckRequestStore, UnfinishedRequests {
  readonly intake: DynamoRequestIntake;
  readonly lifecycle: DynamoRequestLifecycle;
  readonly queries: DynamoRequestQueries;
  readonly sweeper: DynamoRequestSweeperStore;

  constructor(client: DynamoDBDocumentClient, tableName: string, requestRetentionDays: number, bodyObjects?: S3RequestBodies) {
    const bodies = new RequestBodies(client, tableName, requestRetentionDays, bodyObjects);
    this.intake = new DynamoRequestIntake(client, tableName, bodies, requestRetentionDays);
    this.lifecycle = new DynamoRequestLifecycle(client, tableName, requestRetentionDays, bodies);
    this.queries = new DynamoRequestQueries(client, tableName, bodies);
    this.sweeper = new DynamoRequestSweeperStore(client, tableName);
  }

  create(request: HeraldRequest, fingerprint: string): Promise<CreateOutcome> {
    return this.intake.create(request, fingerprint);
  }

  markEnqueued(requestId: string, at: string): Promise<void> {
    return this.intake.markEnqueued(requestId, at);
  }

  markNotEnqueued(requestId: string): Promise<void> {
    return this.intake.markNotEnqueued(requestId);
  }

  get(id: string): Promise<HeraldRequest | undefined> {
    return this.queries.get(id);
  }

  getForMerchant(merchantId: string, id: string): Promise<HeraldRequest | undefined> {
    return this.queries.getForMerchant(merchantId, id);
  }

  listForMerchant(merchantId: string, query: { status?: RequestStatus; limit: number; after?: ListPosition }): Promise<RequestPage> {
    return this.queries.listForMerchant(merchantId, query);
  }

  get policy(): LifecyclePolicy {
    return this.lifecycle.policy;
  }

  apply(id: string, transition: Transition, reads?: ApplyReads): Promise<ApplyOutcome> {
    return this.lifecycle.apply(id, transition, reads);
  }

  findUnqueued(query: { changedBefore: string; enqueuedBefore: string; limit: number }): Promise<HeraldRequest[]> {
    return this.sweeper.findUnqueued(query);
  }

  findUnfinished(status: 'accepted' | 'processing', limit: number): Promise<HeraldRequest[]> {
    return this.sweeper.findUnfinished(status, limit);
  }

  findLeaseExpired(query: { before: string; limit: number }): Promise<HeraldRequest[]> {
    return this.sweeper.findLeaseExpired(query);
  }

  markResent(id: string, at: string): Promise<void> {
    return this.sweeper.markResent(id, at);
  }
}
