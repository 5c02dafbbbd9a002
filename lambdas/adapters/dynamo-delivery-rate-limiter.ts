import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DeliveryRateLimiter, RateReservation } from '../core/webhooks/ports';
import { unlessConditionFails } from './dynamo/conditions';
import { keys } from './dynamo/keys';

/** Tries of the two writes before giving up: each lost race means another worker got a slot. */
const MAX_TRIES = 8;
/** The item outlives its last slot by this much, then TTL removes it. */
const EXPIRY_SECONDS = 3600;

/**
 * Per-endpoint delivery rate, shared by every worker through one item per endpoint that holds
 * `nextAt`, the time (ms) at which the endpoint's next delivery may go out: a virtual schedule
 * (GCRA) that spaces deliveries `1000 / perSecond` ms apart. Taking a slot is one conditional
 * UpdateItem: on a busy endpoint `nextAt` moves on by one interval and the old value is the slot;
 * on an idle one (`nextAt` past, or no item) it is set to one interval from now and the slot is
 * now. A slot further ahead than `horizonMs` is not taken, so a worker never holds one it will not
 * wait for; the caller hears when to come back.
 */
export class DynamoDeliveryRateLimiter implements DeliveryRateLimiter {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async reserve(endpointId: string, perSecond: number, now: number, horizonMs: number): Promise<RateReservation> {
    const interval = Math.ceil(1000 / perSecond);
    const key = keys.deliveryRate(endpointId);
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      const busy = await unlessConditionFails(
        async () => {
          const { Attributes } = await this.client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: key,
              UpdateExpression: 'SET nextAt = nextAt + :interval, expiresAt = :expiresAt',
              ConditionExpression: 'nextAt BETWEEN :now AND :horizon',
              ExpressionAttributeValues: { ':interval': interval, ':now': now, ':horizon': now + horizonMs, ':expiresAt': expiry(now + horizonMs) },
              ReturnValues: 'UPDATED_OLD',
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          );
          return { kind: 'slot', at: Attributes!.nextAt as number } as const;
        },
        ({ current }) => ({ kind: 'missed', nextAt: current?.nextAt as number | undefined }) as const,
      );
      if (busy.kind === 'slot') return busy;
      if (busy.nextAt !== undefined && busy.nextAt > now + horizonMs) return { kind: 'later', retryAt: busy.nextAt - horizonMs };
      if (busy.nextAt !== undefined && busy.nextAt >= now) continue;
      const idle = await unlessConditionFails(
        async () => {
          await this.client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: key,
              UpdateExpression: 'SET nextAt = :next, expiresAt = :expiresAt',
              ConditionExpression: 'attribute_not_exists(nextAt) OR nextAt < :now',
              ExpressionAttributeValues: { ':next': now + interval, ':now': now, ':expiresAt': expiry(now) },
            }),
          );
          return true;
        },
        () => false,
      );
      if (idle) return { kind: 'slot', at: now };
    }
    throw new Error(`No delivery slot for endpoint ${endpointId} after ${MAX_TRIES} tries`);
  }
}

const expiry = (ms: number) => Math.ceil(ms / 1000) + EXPIRY_SECONDS;
