/**
 * `npm run bench:process`: the process worker against the local runtime.
 *
 *   npm run bench:process -- [--requests 500] [--type order|debit|refused]
 *
 * Submits the requests with the queue consumers off, then starts one consumer of the requests
 * queue (the same event-source emulation `npm start` runs, on a client of its own) and times
 * how long it takes to empty the queue. An SDK middleware on the handlers' clients counts every
 * AWS call the worker makes while doing so. `order` is an order.process request (happy path;
 * budget 2 calls: the claim and the finish), `debit` a wallet.debit with one credit step, and
 * `refused` a wallet.debit whose last step refuses, so that both balance changes are undone.
 * A benchmark, not a test: it prints figures and asserts nothing.
 */
import './support/quiet';
import { SQSClient, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { dynamoClient } from '../lambdas/adapters/aws-clients';
import { dynamoRequestPorts } from '../lambdas/adapters/dynamo-request-ports';
import { DynamoWalletLedger } from '../lambdas/adapters/dynamo-wallet-ledger';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../lib/local/provision';
import { startLocalRuntime, type LocalRuntime } from '../lib/local/runtime';
import { SqsEventSource } from '../lib/local/sqs-event-source';
import { queues } from '../lib/topology';
import { countAwsCalls } from './support/aws-call-counter';

let calls = new Map<string, number>();

const payloads: Record<string, (i: number) => { type: string; payload: Record<string, unknown> }> = {
  order: (i) => ({ type: 'order.process', payload: { orderId: `o-${i}`, currency: 'EUR', items: [{ sku: 'tea', quantity: 2, unitPriceCents: 450 }] } }),
  debit: (i) => ({ type: 'wallet.debit', payload: { walletId: `w-${i % 50}`, amountCents: 1, steps: [{ kind: 'credit', walletId: `shop-${i % 50}`, amountCents: 1 }] } }),
  refused: (i) => ({
    type: 'wallet.debit',
    payload: { walletId: `w-${i % 50}`, amountCents: 1, steps: [{ kind: 'credit', walletId: `shop-${i % 50}`, amountCents: 1 }, { kind: 'check', name: 'fraud', outcome: 'refuse' }] },
  }),
};

async function submitAll(runtime: LocalRuntime, type: string, count: number, run: string): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < count) {
        const i = next++;
        const response = await fetch(`${runtime.url}/v1/requests`, {
          method: 'POST',
          headers: { authorization: `Bearer ${runtime.apiKey}`, 'content-type': 'application/json', 'idempotency-key': `${run}-${i}` },
          body: JSON.stringify(payloads[type]!(i)),
        });
        ids.push(((await response.json()) as { id: string }).id);
      }
    }),
  );
  return ids;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { requests: { type: 'string', default: '500' }, type: { type: 'string', default: 'order' } } });
  const count = Number(values.requests);
  const type = values.type!;
  if (!payloads[type]) throw new Error(`--type is one of ${Object.keys(payloads).join(', ')}`);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

  const runtime = await startLocalRuntime({ port: 0, consumers: false });
  const sqs = new SQSClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: runtime.endpoints.sqs });
  try {
    const ledger = new DynamoWalletLedger(dynamoClient(), runtime.resources.tableName);
    for (let w = 0; w < 50; w++) await ledger.apply(runtime.merchantId, { reference: `bench-${w}`, entry: 'credit', walletId: `w-${w}`, amountCents: 1_000_000 });
    const ids = await submitAll(runtime, type, count, Date.now().toString(36));
    calls = countAwsCalls();
    calls.clear();

    const { url, arn } = runtime.resources.queues.requests;
    const source = new SqsEventSource(sqs, 'requests', queues.requests, url, arn);
    const started = performance.now();
    source.start();
    for (;;) {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      );
      if (Number(Attributes!.ApproximateNumberOfMessages) + Number(Attributes!.ApproximateNumberOfMessagesNotVisible) === 0 && !source.busy) break;
      await sleep(20);
    }
    const elapsedMs = performance.now() - started;
    await source.stop();
    const counted = new Map(calls);

    const store = dynamoRequestPorts(dynamoClient(), runtime.resources.tableName, 1).queries;
    const statuses = new Map<string, number>();
    for (const id of ids) {
      const status = (await store.get(id))?.status ?? 'missing';
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    const total = [...counted.values()].reduce((a, b) => a + b, 0);
    console.log(`\n${count} ${payloads[type]!(0).type} requests (${type}) processed in ${(elapsedMs / 1000).toFixed(2)} s`);
    console.log(`  throughput   ${(count / (elapsedMs / 1000)).toFixed(0)} requests/s (one consumer, ${Math.min(queues.requests.maxConcurrency, 4)} pollers)`);
    console.log(`  statuses     ${[...statuses].map(([s, n]) => `${s}×${n}`).join('  ')}`);
    console.log(`  AWS calls    ${(total / count).toFixed(2)} per request (the event source's own receive and delete not counted)`);
    for (const [name, n] of [...counted].sort()) console.log(`    ${name.padEnd(36)} ${n}  (${(n / count).toFixed(2)} per request)`);
  } finally {
    sqs.destroy();
    await runtime.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
