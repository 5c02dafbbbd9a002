/**
 * `herald requests show <request id>`: everything stored about one request, whichever merchant
 * owns it: status, attempts, lease, enqueue mark, payload, result or error, its history, and its
 * webhook deliveries with every attempt (skips by an open circuit included), its callback's
 * (target `callback`) among them.
 * `herald requests wait <request id> [--timeout S]`: waits until it finishes, then shows it; the
 * exit code says how it ended (0 succeeded, 1 failed, cancelled or still running at the timeout).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDeliveryStore } from '../../lambdas/adapters/dynamo-delivery-store';
import { dynamoRequestPorts } from '../../lambdas/adapters/dynamo-request-ports';
import { WAIT_READ_INTERVALS_MS } from '../../lambdas/core/requests/await-request-status';
import { isTerminal, type HeraldRequest } from '../../lambdas/core/requests/request';
import type { RequestReader } from '../../lambdas/core/requests/ports';
import type { Delivery } from '../../lambdas/core/webhooks/delivery';
import { defaults } from '../../lambdas/settings/requests';
import { presentCallback } from '../../lambdas/core/webhooks/callbacks';
import { CliFailedError, CliUsageError, withTarget } from './context';
import { printJson, printText, withoutControls } from './output';

export const USAGE = 'Usage: herald requests show <request id> [--json] <target>\n       herald requests wait <request id> [--timeout <seconds, default 60>] [--json] <target>';

/** Reads the request until it is finished or `timeoutSeconds` pass, as a long-poll does. */
async function waitForEnd(store: RequestReader, id: string, timeoutSeconds: number): Promise<HeraldRequest | undefined> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let interval: number = WAIT_READ_INTERVALS_MS.first;
  for (;;) {
    const request = await store.get(id);
    if (!request || isTerminal(request.status) || Date.now() >= deadline) return request;
    await sleep(Math.min(interval, Math.max(deadline - Date.now(), 0)));
    interval = Math.min(interval * WAIT_READ_INTERVALS_MS.growth, WAIT_READ_INTERVALS_MS.max);
  }
}

export async function run(argv: string[]): Promise<void> {
  await withTarget(argv, { json: { type: 'boolean' }, timeout: { type: 'string' } }, USAGE, async (target, { values, positionals }) => {
    const [action, id, ...rest] = positionals;
    if ((action !== 'show' && action !== 'wait') || !id || rest.length) throw new CliUsageError(USAGE);
    const timeoutSeconds = values.timeout === undefined ? 60 : Number(values.timeout);
    if (action !== 'wait' && values.timeout !== undefined) throw new CliUsageError(USAGE);
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 0 || timeoutSeconds > 86_400) throw new CliUsageError(`--timeout must be whole seconds from 0 to 86400\n${USAGE}`);
    const store = dynamoRequestPorts(target.dynamo, target.tableName, defaults.requestRetentionDays, target.bodies).queries;
    const request = action === 'wait' ? await waitForEnd(store, id, timeoutSeconds) : await store.get(id);
    if (!request) throw new CliFailedError(`No request ${id} in ${target.description}`);
    const outcome = () => {
      if (action === 'wait' && request.status !== 'succeeded') {
        throw new CliFailedError(isTerminal(request.status) ? `Request ${id} ended ${request.status}` : `Request ${id} is still ${request.status} after ${timeoutSeconds} s`);
      }
    };
    if (values.json) {
      printJson(request, 2);
      return outcome();
    }
    const deliveries = await new DynamoDeliveryStore(target.dynamo, target.tableName).listForSubject(id);
    // Every value but the CLI's own words may come from a merchant: each is kept to one plain line.
    const line = (label: string, value: unknown) => (value === undefined ? [] : [`  ${label.padEnd(12)} ${withoutControls(value)}`]);
    printText(
      [
        `${request.id}  ${withoutControls(request.type)}  ${request.status}`,
        ...line('merchant', request.merchantId),
        ...line('key', request.idempotencyKey),
        ...line('trace id', request.traceId),
        ...line('ordering', request.orderingKey === undefined ? undefined : `${request.orderingKey}  #${request.orderingSeq ?? '?'}`),
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
        ...line('callback', request.callback ? `${request.callback.url}  ${presentCallback(request.callback).events.join(', ')}` : undefined),
        '  history',
        ...request.history.map(
          (h) => `    ${h.at}  ${h.from ?? '-'} → ${h.to}  attempt ${h.attempt}${h.step ? `  step ${withoutControls(h.step)}` : ''}${h.reason ? `  ${withoutControls(h.reason)}` : ''}`,
        ),
        ...deliveryLines(deliveries),
      ].join('\n'),
    );
    outcome();
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
          `      ${a.at}  #${a.attempt}  ${a.status !== undefined ? `HTTP ${a.status}` : (a.error ?? 'no answer')}  ${a.latencyMs} ms${a.errorMessage ? `  ${withoutControls(a.errorMessage)}` : ''}`,
      ),
    ]),
  ];
}
