/**
 * `herald requests show <request id>`: everything stored about one request, whichever merchant
 * owns it: status, attempts, lease, enqueue mark, payload, result or error, and its history.
 */
import { DynamoRequestStore } from '../../lambdas/adapters/dynamo-request-store';
import { defaults } from '../topology';
import { CliFailedError, CliUsageError, withTarget } from './context';
import { printJson, printText, withoutControls } from './output';

export const USAGE = 'Usage: herald requests show <request id> [--json] <target>';

export async function run(argv: string[]): Promise<void> {
  await withTarget(argv, { json: { type: 'boolean' } }, USAGE, async (target, { values, positionals }) => {
    const [action, id, ...rest] = positionals;
    if (action !== 'show' || !id || rest.length) throw new CliUsageError(USAGE);
    const store = new DynamoRequestStore(target.dynamo, target.tableName, defaults.requestRetentionDays);
    const request = await store.get(id);
    if (!request) throw new CliFailedError(`No request ${id} in ${target.description}`);
    if (values.json) {
      printJson(request, 2);
      return;
    }
    // Every value but the CLI's own words may come from a merchant: each is kept to one plain line.
    const line = (label: string, value: unknown) => (value === undefined ? [] : [`  ${label.padEnd(12)} ${withoutControls(value)}`]);
    printText(
      [
        `${request.id}  ${withoutControls(request.type)}  ${request.status}`,
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
        ...request.history.map(
          (h) => `    ${h.at}  ${h.from ?? '-'} → ${h.to}  attempt ${h.attempt}${h.step ? `  step ${withoutControls(h.step)}` : ''}${h.reason ? `  ${withoutControls(h.reason)}` : ''}`,
        ),
      ].join('\n'),
    );
  });
}
