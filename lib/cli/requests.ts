/**
 * `herald requests show <request id>`: everything stored about one request, whichever merchant
 * owns it: status, attempts, lease, enqueue mark, payload, result or error, its history, and its
 * webhook deliveries with every attempt (skips by an open circuit included).
 */
import { DynamoDeliveryStore } from '../../lambdas/adapters/dynamo-delivery-store';
import { DynamoRequestStore } from '../../lambdas/adapters/dynamo-request-store';
import type { Delivery } from '../../lambdas/core/webhooks';
import { defaults } from '../topology';
import { CliFailedError, CliUsageError, withTarget } from './context';

export const USAGE = 'Usage: herald requests show <request id> [--json] <target>';

export async function run(argv: string[]): Promise<void> {
  await withTarget(argv, { json: { type: 'boolean' } }, USAGE, async (target, { values, positionals }) => {
    const [action, id, ...rest] = positionals;
    if (action !== 'show' || !id || rest.length) throw new CliUsageError(USAGE);
    const store = new DynamoRequestStore(target.dynamo, target.tableName, defaults.requestRetentionDays);
    const request = await store.get(id);
    if (!request) throw new CliFailedError(`No request ${id} in ${target.description}`);
    if (values.json) {
      console.log(JSON.stringify(request, null, 2));
      return;
    }
    const deliveries = await new DynamoDeliveryStore(target.dynamo, target.tableName).listForSubject(id);
    const line = (label: string, value: unknown) => (value === undefined ? [] : [`  ${label.padEnd(12)} ${value}`]);
    console.log(
      [
        `${request.id}  ${request.type}  ${request.status}`,
        ...line('merchant', request.merchantId),
        ...line('key', request.idempotencyKey),
        ...line('trace id', request.traceId),
        ...line('attempts', request.attempts),
        ...line('version', request.version),
        ...line('created', request.createdAt),
        ...line('updated', request.updatedAt),
        ...line('enqueued', request.enqueuedAt ?? '(not enqueued: the sweeper or a retry with the key will)'),
        ...line('lease until', request.leaseUntil),
        ...line('next attempt', request.nextAttemptAt),
        ...line('payload', JSON.stringify(request.payload)),
        ...line('result', request.result === undefined ? undefined : JSON.stringify(request.result)),
        ...line('error', request.error ? `${request.error.code}: ${request.error.message}${request.error.retryable ? ' (retryable)' : ''}` : undefined),
        '  history',
        ...request.history.map((h) => `    ${h.at}  ${h.from ?? '-'} → ${h.to}  attempt ${h.attempt}${h.reason ? `  ${h.reason}` : ''}`),
        ...deliveryLines(deliveries),
      ].join('\n'),
    );
  });
}

/** A request's deliveries and their attempts, as `requests show` prints them. */
export function deliveryLines(deliveries: readonly Delivery[]): string[] {
  if (deliveries.length === 0) return [];
  return [
    '  deliveries',
    ...deliveries.flatMap((delivery) => [
      `    ${delivery.endpointId}  ${delivery.eventType}  ${delivery.state}  round ${delivery.round}${delivery.nextAttemptAt && delivery.state === 'pending' ? `  next ${delivery.nextAttemptAt}` : ''}`,
      ...delivery.attempts.map(
        (a) =>
          `      ${a.at}  #${a.attempt}  ${a.status !== undefined ? `HTTP ${a.status}` : (a.error ?? 'no answer')}  ${a.latencyMs} ms${a.errorMessage ? `  ${a.errorMessage}` : ''}`,
      ),
    ]),
  ];
}
