/**
 * `npm run bench:throughput`: end-to-end throughput of the local runtime against what its
 * embedded emulators can do at most for the same AWS work.
 *
 *   npm run bench:throughput -- [--clients 64] [--seconds 30]
 *
 * 1. Herald: `--clients` concurrent clients for `--seconds`, each submitting a `demo.sleep`
 *    request (0 ms of work, about 1 KB) and waiting for its webhook (one endpoint, answering 204)
 *    before the next: requests per second, and p50/p95/p99 from submit to webhook received.
 * 2. The emulators' raw capacity: the AWS calls one such request makes (counted in a short
 *    calibration before step 1, so the loop follows whatever the code does), issued as a bare loop of the same operations at
 *    the same concurrency for the same time, with no Herald code in between.
 * Then the line `ratio to emulator capacity: 0.NN` (Herald's requests per second over the bare
 * loop's). Run it under `NODE_OPTIONS=--cpu-prof` to see where the rest goes.
 * A benchmark, not a test: it prints figures and asserts nothing.
 */
import './support/quiet';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { recordInvocations } from '../lib/local/lambda-context';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../lib/local/provision';
import { startLocalRuntime, type LocalRuntime } from '../lib/local/runtime';
import { meterAwsCalls, stopMeteringAwsCalls, type MeteredCall } from './support/aws-call-meter';
import { startWebhookSink, type WebhookReceiver } from '../test/support/webhook-receiver';
import { orderPayload } from '../test/support/order-payload';

const { values } = parseArgs({
  options: { clients: { type: 'string', default: '64' }, seconds: { type: 'string', default: '30' } },
});
const clients = Number(values.clients);
const seconds = Number(values.seconds);
// A realistic order, not one repeated character, so that the stored item is as large as real traffic makes it.
const PAYLOAD = orderPayload(1, { ms: 0 });

const submittedAt = new Map<string, number>();
// The endpoint every request's webhook goes to; set once main has started it.
let sink: WebhookReceiver;

/** One request, submit to webhook; its latency in ms. */
async function oneRequest(runtime: LocalRuntime): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${runtime.url}/v1/requests`, {
    method: 'POST',
    headers: { authorization: `Bearer ${runtime.apiKey}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify({ type: 'demo.sleep', payload: PAYLOAD }),
  });
  if (response.status !== 202) throw new Error(`submit answered ${response.status}: ${await response.text()}`);
  const { id } = (await response.json()) as { id: string };
  submittedAt.set(id, started);
  await sink.arrivalOf(id, 600_000);
  sink.forget(id);
  return performance.now() - started;
}

/** Runs `work` in `concurrency` loops until `durationMs` has passed; counts and times each round. */
async function saturate(concurrency: number, durationMs: number, work: () => Promise<unknown>): Promise<{ count: number; elapsedMs: number; latencies: number[] }> {
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await work();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { count: latencies.length, elapsedMs: performance.now() - started, latencies };
}

/** The operations one request costs, from step 1's calls: each kind rounded to whole calls per request. */
function operationMix(calls: MeteredCall[], requests: number, batches: { receives: number; deletes: number }): Map<string, number> {
  const counts = new Map<string, number>();
  for (const call of calls) {
    if (call.functionName === '(outside)' || call.functionName === 'authorizer') continue;
    counts.set(call.operation, (counts.get(call.operation) ?? 0) + 1);
  }
  counts.set('sqs:ReceiveMessage', batches.receives);
  counts.set('sqs:DeleteMessageBatch', (counts.get('sqs:DeleteMessageBatch') ?? 0) + batches.deletes);
  const mix = new Map<string, number>();
  for (const [operation, count] of counts) {
    const perRequest = Math.round(count / requests);
    if (perRequest > 0) mix.set(operation, perRequest);
  }
  return mix;
}

/** A bare loop of `mix` against the emulators: same operations, same item size, no Herald code. */
function bareLoop(runtime: LocalRuntime, queueUrl: string, mix: Map<string, number>): () => Promise<void> {
  const config = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ ...config, endpoint: runtime.endpoints.dynamodb }));
  const sqs = new SQSClient({ ...config, endpoint: runtime.endpoints.sqs, useQueueUrlAsEndpoint: false });
  const TableName = runtime.resources.tableName;
  const unsupported = [...mix.keys()].filter((operation) => !/^(dynamodb:(PutItem|UpdateItem|GetItem|Query|TransactWriteItems)|sqs:(SendMessage|SendMessageBatch|ReceiveMessage|DeleteMessageBatch))$/.test(operation));
  if (unsupported.length > 0) console.log(`  (the bare loop leaves out ${unsupported.join(', ')})`);
  return async () => {
    const pk = `BENCH#${randomUUID()}`;
    const item = { pk, sk: 'REQ', status: 'accepted', version: 1, payload: PAYLOAD };
    const repeat = async (operation: string, call: (i: number) => Promise<unknown>) => {
      for (let i = 0; i < (mix.get(operation) ?? 0); i++) await call(i);
    };
    await repeat('dynamodb:TransactWriteItems', (i) =>
      dynamo.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName, Item: { ...item, sk: `TX${i}` }, ConditionExpression: 'attribute_not_exists(pk)' } },
            { Put: { TableName, Item: { pk, sk: `IDEM${i}` }, ConditionExpression: 'attribute_not_exists(pk)' } },
          ],
        }),
      ),
    );
    await repeat('dynamodb:PutItem', (i) => dynamo.send(new PutCommand({ TableName, Item: { ...item, sk: `P${i}` }, ConditionExpression: 'attribute_not_exists(pk)' })));
    await repeat('sqs:SendMessage', () => sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ pk }) })));
    await repeat('sqs:SendMessageBatch', () => sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: [{ Id: '0', MessageBody: JSON.stringify({ pk }) }] })));
    await repeat('sqs:ReceiveMessage', async () => {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 0 }));
      if (Messages.length > 0) {
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
      }
    });
    await repeat('dynamodb:UpdateItem', (i) =>
      dynamo.send(
        new UpdateCommand({
          TableName,
          Key: { pk, sk: 'P0' },
          UpdateExpression: 'SET #s = :s, version = version + :one',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': `step-${i}`, ':one': 1 },
        }),
      ).catch(() => undefined),
    );
    await repeat('dynamodb:GetItem', () => dynamo.send(new GetCommand({ TableName, Key: { pk, sk: 'P0' } })));
    await repeat('dynamodb:Query', () => dynamo.send(new QueryCommand({ TableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk } })));
  };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

async function main(): Promise<void> {
  const runtime = await startLocalRuntime({ port: 0, schedules: false });
  const receiver = (sink = await startWebhookSink());
  try {
    const registered = await fetch(`${runtime.url}/v1/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${runtime.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url }),
    });
    if (registered.status !== 201) throw new Error(`registering the receiver: ${registered.status} ${await registered.text()}`);
    await oneRequest(runtime); // load every handler and fill the warm caches

    // What one request costs in AWS calls, counted over a short calibration at the same
    // concurrency; the counting is off again for the measured run.
    const calls = meterAwsCalls();
    const batches = { receives: 0, deletes: 0 };
    const stopRecording = recordInvocations(({ event }) => {
      if ((event as { Records?: unknown[] }).Records) {
        batches.receives++;
        batches.deletes++;
      }
    });
    const calibration = await saturate(clients, Math.min(5, seconds) * 1000, () => oneRequest(runtime));
    while (runtime.busy()) await sleep(100);
    stopRecording();
    stopMeteringAwsCalls();
    const mix = operationMix(calls, calibration.count, batches);

    // 1. Herald.
    const herald = await saturate(clients, seconds * 1000, () => oneRequest(runtime));
    while (runtime.busy()) await sleep(100);

    // 2. The same operations, bare.
    const sqs = new SQSClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: runtime.endpoints.sqs, useQueueUrlAsEndpoint: false });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `herald-bench-raw-${Date.now()}` }));
    const raw = await saturate(clients, seconds * 1000, bareLoop(runtime, QueueUrl!, mix));

    const sorted = [...herald.latencies].sort((a, b) => a - b);
    const heraldRps = herald.count / (herald.elapsedMs / 1000);
    const rawRps = raw.count / (raw.elapsedMs / 1000);
    console.log(
      [
        '',
        `End-to-end throughput on the local runtime (DynamoDB Local + fauxqs), ${clients} clients for ${seconds} s`,
        `  Herald:   ${herald.count} requests submitted and their webhooks received, ${heraldRps.toFixed(1)} requests/s`,
        `            submit to webhook p50 ${percentile(sorted, 50).toFixed(0)} ms, p95 ${percentile(sorted, 95).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms`,
        `  emulators: the same AWS work per request (${[...mix].map(([operation, n]) => `${n} ${operation}`).join(', ')})`,
        `            as a bare loop: ${raw.count} rounds, ${rawRps.toFixed(1)} per second`,
        `ratio to emulator capacity: ${(heraldRps / rawRps).toFixed(2)}`,
        '',
      ].join('\n'),
    );
    sqs.destroy();
  } finally {
    await receiver.close();
    await runtime.stop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
