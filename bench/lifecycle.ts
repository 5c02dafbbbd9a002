/**
 * `npm run bench:lifecycle`: what one request costs on AWS, in calls, capacity, invocations, log
 * bytes and dollars, measured on the local runtime.
 *
 *   npm run bench:lifecycle -- [--requests 500] [--concurrency 1] [--payload-kb 1,100] [--tracing]
 *                              [--receiver-ms 100] [--rate 100] [--monthly-requests 10000000]
 *                              [--cold-ratio 0.01] [--heat-requests 500] [--heat-merchants 50]
 *                              [--feature-requests 100] [--rate-limited 10] [--wait-requests 30] [--wait-ms 0,2000]
 *
 * The reference workload, once per payload size: a submit of a `demo.sleep` request (0 ms of
 * work) whose body is about that many KB, one webhook endpoint answering 204, no SMS or email,
 * and one status poll once the webhook has arrived. Everything the handlers do is measured, not
 * assumed: each AWS call of their SDK clients (attributed to the invoking function, DynamoDB
 * capacity as the emulator reports it for `ReturnConsumedCapacity: TOTAL`), each invocation and
 * its duration, each byte they log at the deployed level (INFO, EMF metrics on). The queue
 * consumers' event source is billed per batch: one receive (more for a payload over 64 KB) and
 * one batch delete per invocation. The schedules are off: a sweeper's runs cost the same whatever
 * the traffic. One client by default: the handlers share this process's one CPU thread, so more
 * clients stretch every measured duration by the invocations running beside it, which a Lambda
 * instance never sees. Prices: bench/support/aws-prices.ts. Budgets: 7 calls and $8.00 per million.
 * A benchmark, not a test: it prints figures and asserts nothing.
 *
 * Beside what the handlers do, every line the bill has (bench/support/bill-lines.ts): API
 * Gateway's access-log line per API request (the stage's format rendered), the billed init phase
 * at `--cold-ratio` cold starts per invocation, a receiver that answers after `--receiver-ms`,
 * the storage and point-in-time recovery of what a request leaves in the table for as long as
 * it is kept, data transfer out (responses and webhooks), the sweepers' runs and the stack's
 * fixed monthly lines (alarms, custom metrics, KMS keys, dashboard) over `--monthly-requests`.
 * The one-at-a-time runs use no batching window (one message a batch either way); then
 * `--rate` requests a second of 1 KB arrive on the stack's own batching settings, and last the
 * summary: one request at a time, at the rate, at the largest payload, and the first on
 * provisioned capacity at 70 % utilisation.
 *
 * Then the optional features, each priced beside the reference (`--feature-requests`, 0 to skip):
 * the 1 KB workload with the endpoint at `rateLimitPerSecond` (`--rate-limited`), then with a
 * `callbackUrl` on every submit; the reference runs set neither, so their figures do not move.
 *
 * Then the partition-heat meter (bench/support/partition-heat.ts), in a phase of its own since
 * its reads slow the handlers down: the same lifecycle of 1 KB requests, once spread evenly over
 * many merchants with one endpoint each, once from one merchant alone, and for each the partition
 * key values every DynamoDB read and write lands on, in the table and in each index, grouped by
 * key shape, and the request rate the hottest value allows at 1,000 write and 3,000 read units a
 * second. Last, the other ceilings as configured, at the durations measured above.
 *
 * Then waiting instead of polling (`--wait-requests`, 0 to skip): the reference request (1 KB),
 * made to run each of `--wait-ms` (0, the reference workload itself, and 2 s), its client once polling `GET /v1/requests/{id}` at `Retry-After` until it
 * has finished, once long-polling it (`Prefer: wait=20` with `If-None-Match`) until then; what the
 * status side costs on AWS per request each way (API requests, invocations, the function's
 * duration, which holds the wait, and its DynamoDB reads and writes), and which is cheaper.
 */
import './support/deployed-logging';
import './support/quiet';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { invokingFunction, recordInvocations, type Invocation } from '../lib/local/lambda-context';
import { startLocalRuntime, type LocalRuntime } from '../lib/local/runtime';
import { functions, queues, type FunctionName } from '../lib/topology';
import { DynamoMerchantStore } from '../lambdas/adapters/dynamo-merchant-store';
import { dynamoClient } from '../lambdas/adapters/aws-clients';
import { defaultThrottle } from '../lib/herald-stack';
import { meterAwsCalls, stopMeteringAwsCalls, type MeteredCall } from './support/aws-call-meter';
import { heatByShape, meterPartitionHeat, type ShapeHeat } from './support/partition-heat';
import { startWebhookSink, type WebhookReceiver } from '../test/support/webhook-receiver';
import { PRICES, PRICES_READ, PRICES_REGION } from './support/aws-prices';
import {
  accessLogLineBytes,
  fixedMonthlyLines,
  INIT_MS,
  provisionedDollarsPerMillionUnits,
  readStackBill,
  storageDollars,
  tableFootprint,
  bucketFootprint,
  objectStorageDollars,
  type Footprint,
  type MonthlyLine,
  type StackBill,
} from './support/bill-lines';
import { defaults } from '../lambdas/settings/requests';
import type { BodyKind } from '../lambdas/settings/storage';
import { schedules } from '../lib/topology';
import { orderPayload } from '../test/support/order-payload';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '1' },
    'payload-kb': { type: 'string', default: '1,100' },
    // Prices what the stack's `tracing=true` adds; off, as a default deployment is.
    tracing: { type: 'boolean', default: false },
    'heat-requests': { type: 'string', default: '500' },
    'heat-merchants': { type: 'string', default: '50' },
    // The receiver's answer time: the deliver function waits for it, and is billed for it.
    'receiver-ms': { type: 'string', default: '100' },
    // Requests a second of the sustained phase (1 KB, batching as the stack sets it); 0 skips it.
    rate: { type: 'string', default: '100' },
    // The month's traffic the fixed monthly lines are spread over.
    'monthly-requests': { type: 'string', default: '10000000' },
    // Share of invocations that start a new instance and pay its init phase.
    'cold-ratio': { type: 'string', default: '0.01' },
    'wait-requests': { type: 'string', default: '30' },
    // Requests of each optional-feature run (an endpoint's rate limit, a callback per request); 0 skips them.
    'feature-requests': { type: 'string', default: '100' },
    // The endpoint's `rateLimitPerSecond` in the rate-limited run.
    'rate-limited': { type: 'string', default: '10' },
    'wait-ms': { type: 'string', default: '0,2000' },
  },
});
const PROVISIONED_UTILISATION = 0.7;
/** Clients of the heat phase: its durations are not measured, only where its reads and writes land. */
const HEAT_CONCURRENCY = 8;
/** Lambda's default concurrency quota per account and region, shared by every function. */
const ACCOUNT_CONCURRENCY = 1_000;

const CALL_BUDGET = 7;
/**
 * The cost goals per million requests: the reference workload one request at a time (1 KB), the
 * same at a sustained rate with batching, and with a 100 KB payload.
 */
const COST_GOALS = { oneAtATime: 9.5, sustained: 8, largePayload: 15 } as const;

function costGoalOf(run: Pick<Run, 'payloadKb' | 'rate'>): number {
  if (run.rate) return COST_GOALS.sustained;
  return run.payloadKb >= 100 ? COST_GOALS.largePayload : COST_GOALS.oneAtATime;
}
/**
 * Lambda's own lines per invocation (START, END, and REPORT with its X-Ray trace id), about 360
 * bytes, plus CloudWatch's 26 bytes of metadata on each of those three events. The stack sets
 * the system log level to WARN (lib/constructs/functions.ts), so none of them is ingested; the
 * figure prices what INFO would add.
 */
const PLATFORM_LOG_BYTES_PER_INVOCATION = 360 + 3 * 26;
const LOG_EVENT_OVERHEAD_BYTES = 26;
/** X-Ray's default sampling rule records the first request each second and 5 % of the rest. */
const XRAY_SAMPLED_SHARE = 0.05;
const CHUNK_BYTES = 64 * 1024;

interface Run {
  readonly payloadKb: number;
  /** What the run adds to the reference workload; undefined for the reference itself. */
  readonly feature?: string;
  /** Requests a second of a sustained run; undefined for one request at a time. */
  readonly rate?: number;
  readonly seconds: number;
  readonly requests: number;
  /** Bytes that left AWS: API responses to the client and webhooks to the receiver. */
  readonly transferOutBytes: number;
  /** What the run's requests left in the table. */
  readonly footprint: Footprint;
  /** What the run's requests left in the bodies bucket, by kind. */
  readonly objectBytes: Record<BodyKind, number>;
  readonly apiRequests: number;
  readonly calls: MeteredCall[];
  readonly invocations: Invocation[];
  readonly logBytes: Map<string, number>;
}

// The endpoint every request's webhook goes to; set once main has started it.
let sink: WebhookReceiver;
// Where a request's callback goes when a run asks for one (`callbackUrl` on submit); set by main.
let callbackSink: WebhookReceiver;

/** What a run adds to each submit of the reference workload. */
interface Variant {
  readonly feature: string;
  readonly callback?: boolean;
}
// Bytes of the API's responses (status line, headers, body), as they leave AWS toward the client.
let responseBytes = 0;

const HTTP_STATUS_LINE_BYTES = 'HTTP/1.1 200 OK\r\n'.length + 2;

async function countedBody(response: Response): Promise<ArrayBuffer> {
  const body = await response.arrayBuffer();
  responseBytes += HTTP_STATUS_LINE_BYTES + body.byteLength;
  response.headers.forEach((value, name) => (responseBytes += Buffer.byteLength(`${name}: ${value}\r\n`)));
  return body;
}

/** Submit, wait for the webhook (and the callback when asked), poll once: the reference workload for one request. */
async function lifecycle(runtime: LocalRuntime, payloadKb: number, apiKey = runtime.apiKey, variant?: Variant): Promise<string> {
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const submitted = await fetch(`${runtime.url}/v1/requests`, {
    method: 'POST',
    headers: { ...headers, 'idempotency-key': randomUUID() },
    body: JSON.stringify({ type: 'demo.sleep', payload: orderPayload(payloadKb, { ms: 0 }), ...(variant?.callback ? { callbackUrl: callbackSink.url } : {}) }),
  });
  if (submitted.status !== 202) throw new Error(`submit answered ${submitted.status}: ${await submitted.text()}`);
  const { id } = JSON.parse(Buffer.from(await countedBody(submitted)).toString('utf8')) as { id: string };
  await sink.arrivalOf(id);
  if (variant?.callback) {
    await callbackSink.arrivalOf(id);
    callbackSink.forget(id);
  }
  const polled = await fetch(`${runtime.url}/v1/requests/${id}`, { headers });
  if (polled.status !== 200) throw new Error(`poll answered ${polled.status}`);
  await countedBody(polled);
  sink.forget(id);
  return id;
}

/** Counts what the handlers write to stdout and stderr, by function, without showing it. */
function captureLogs(): { bytes: Map<string, number>; restore(): void } {
  const bytes = new Map<string, number>();
  const originals = { out: process.stdout.write, err: process.stderr.write };
  const counting = (chunk: string | Uint8Array): boolean => {
    const name = invokingFunction() ?? '(outside)';
    // Each write is one log event in CloudWatch.
    const size = (typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length) + LOG_EVENT_OVERHEAD_BYTES;
    bytes.set(name, (bytes.get(name) ?? 0) + size);
    return true;
  };
  process.stdout.write = counting as typeof process.stdout.write;
  process.stderr.write = counting as typeof process.stderr.write;
  return {
    bytes,
    restore: () => {
      process.stdout.write = originals.out;
      process.stderr.write = originals.err;
    },
  };
}

async function measure(runtime: LocalRuntime, calls: MeteredCall[], payloadKb: number, requests: number, concurrency: number, rate?: number, variant?: Variant): Promise<Run> {
  const before = await tableFootprint(runtime.resources.tableName);
  const objectsBefore = await bucketFootprint(runtime.resources.bodiesBucket);
  calls.length = 0;
  responseBytes = 0;
  const sinkBytesBefore = sink.bytesReceived + callbackSink.bytesReceived;
  const invocations: Invocation[] = [];
  const stopRecording = recordInvocations((invocation) => invocations.push(invocation));
  const logs = captureLogs();
  const started = Date.now();
  try {
    if (rate) {
      // Open loop: a request starts every 1/rate s whether or not the earlier ones have finished.
      const running: Promise<string>[] = [];
      for (let i = 0; i < requests; i++) {
        const due = started + (i * 1000) / rate;
        if (due > Date.now()) await sleep(due - Date.now());
        running.push(lifecycle(runtime, payloadKb));
      }
      await Promise.all(running);
    } else {
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < requests) {
            next++;
            await lifecycle(runtime, payloadKb, runtime.apiKey, variant);
          }
        }),
      );
    }
    // The delivery's outcome is written after the receiver answered: wait for the pipeline to go quiet.
    let seen = -1;
    while (seen !== invocations.length || runtime.busy()) {
      seen = invocations.length;
      await sleep(500);
    }
  } finally {
    logs.restore();
    stopRecording();
  }
  const seconds = (Date.now() - started) / 1000;
  const recorded = [...calls];
  const after = await tableFootprint(runtime.resources.tableName);
  const objectsAfter = await bucketFootprint(runtime.resources.bodiesBucket);
  const objectBytes = { payload: objectsAfter.payload - objectsBefore.payload, result: objectsAfter.result - objectsBefore.result };
  const footprint = {
    requestBytes: after.requestBytes - before.requestBytes,
    deliveryBytes: after.deliveryBytes - before.deliveryBytes,
    otherBytes: after.otherBytes - before.otherBytes,
  };
  const transferOutBytes = responseBytes + sink.bytesReceived + callbackSink.bytesReceived - sinkBytesBefore;
  return { payloadKb, ...(variant ? { feature: variant.feature } : {}), ...(rate ? { rate } : {}), seconds, requests, transferOutBytes, footprint, objectBytes, apiRequests: requests * 2, calls: recorded, invocations, logBytes: logs.bytes };
}

const isSqsConsumer = (name: FunctionName) => Object.values(queues).some((q) => q.consumer === name);

function eventSourceCalls(invocations: Invocation[]): MeteredCall[] {
  const calls: MeteredCall[] = [];
  for (const { functionName, event, result } of invocations) {
    if (!isSqsConsumer(functionName)) continue;
    const records = (event as { Records: { messageId: string; body: string }[] }).Records;
    const failed = new Set(((result as { batchItemFailures?: { itemIdentifier: string }[] } | undefined)?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    const bytes = records.reduce((sum, r) => sum + Buffer.byteLength(r.body), 0);
    const common = { functionName, readUnits: 0, writeUnits: 0 };
    calls.push({ ...common, operation: 'sqs:ReceiveMessage (event source)', billedRequests: Math.max(1, Math.ceil(bytes / CHUNK_BYTES)) });
    const deleted = records.filter((r) => !failed.has(r.messageId)).length;
    if (deleted > 0) calls.push({ ...common, operation: 'sqs:DeleteMessageBatch (event source)', billedRequests: Math.ceil(deleted / 10) });
  }
  return calls;
}

const fixed = (value: number, digits = 2) => value.toFixed(digits);
const dollars = (value: number) => `$${value.toFixed(2)}`;

/** What the stack bills apart from the requests, read once and shared by every run's report. */
interface Overheads {
  readonly stack: StackBill;
  /** Fixed lines and the sweepers' runs, in dollars a month. */
  readonly monthly: MonthlyLine[];
  /** Lambda GB-s per request of the one-at-a-time 1 KB run, once measured. */
  gbSecondsPerRequestAlone?: number;
}

interface Priced {
  readonly perMillion: number;
  /** The handlers' own AWS calls per request, the poll apart: the figure the call budget is held to. */
  readonly callsPerRequest: number;
  readonly gbSecondsPerRequest: number;
  /** The same with DynamoDB's units on provisioned capacity at PROVISIONED_UTILISATION. */
  readonly provisionedPerMillion: number;
}

function report(run: Run, overheads: Overheads): Priced {
  const n = run.requests;
  const sourceCalls = eventSourceCalls(run.invocations);
  const all = [...run.calls, ...sourceCalls];
  const rows = new Map<string, { calls: number; billed: number; read: number; write: number }>();
  for (const call of all) {
    const key = `${call.functionName}\t${call.operation}`;
    const row = rows.get(key) ?? { calls: 0, billed: 0, read: 0, write: 0 };
    row.calls++;
    row.billed += call.billedRequests;
    row.read += call.readUnits;
    row.write += call.writeUnits;
    rows.set(key, row);
  }
  const handlerCalls = run.calls.filter((c) => c.functionName !== 'status' && c.functionName !== '(outside)').length;
  const byService = (prefix: string) => all.filter((c) => c.operation.startsWith(prefix)).reduce((sum, c) => sum + c.billedRequests, 0);
  const readUnits = all.reduce((sum, c) => sum + c.readUnits, 0);
  const writeUnits = all.reduce((sum, c) => sum + c.writeUnits, 0);

  const byFunction = new Map<FunctionName, number[]>();
  for (const invocation of run.invocations) byFunction.set(invocation.functionName, [...(byFunction.get(invocation.functionName) ?? []), invocation.durationMs]);
  let gbSeconds = 0;
  for (const invocation of run.invocations) gbSeconds += (Math.ceil(invocation.durationMs) / 1000) * (functions[invocation.functionName].memoryMb / 1024);
  // Many requests at once share this process's one thread, which stretches every duration: a
  // sustained run is billed no more duration per request than one request at a time was.
  const stretchedGbSeconds = gbSeconds;
  if (run.rate && overheads.gbSecondsPerRequestAlone !== undefined) gbSeconds = Math.min(gbSeconds, overheads.gbSecondsPerRequestAlone * n);
  const invocations = run.invocations.length;
  const functionLogBytes = [...run.logBytes].filter(([name]) => name !== '(outside)').reduce((sum, [, bytes]) => sum + bytes, 0);
  const platformLogBytes = invocations * PLATFORM_LOG_BYTES_PER_INVOCATION;
  const logBytes = functionLogBytes;
  const tracedShare = values.tracing ? XRAY_SAMPLED_SHARE : 0;

  const costs: [string, number][] = [
    [`HTTP API requests (${fixed(run.apiRequests / n)} per request)`, (run.apiRequests / n) * PRICES.httpApiRequest.dollars],
    [`Lambda invocations (${fixed(invocations / n)})`, (invocations / n) * PRICES.lambdaRequest.dollars],
    [`Lambda arm64 duration (${fixed(gbSeconds / n, 4)} GB-s)`, (gbSeconds / n) * PRICES.lambdaArmGbSecond.dollars],
    [`SQS requests (${fixed(byService('sqs:') / n)} of 64 KB)`, (byService('sqs:') / n) * PRICES.sqsRequest.dollars],
    [`DynamoDB write units (${fixed(writeUnits / n)})`, (writeUnits / n) * PRICES.dynamoWriteUnit.dollars],
    [`DynamoDB read units (${fixed(readUnits / n)})`, (readUnits / n) * PRICES.dynamoReadUnit.dollars],
    [`SNS publishes (${fixed(byService('sns:Publish') / n)})`, (byService('sns:Publish') / n) * PRICES.snsPublish.dollars],
    [`S3 PUT requests (${fixed(byService('s3:PutObject') / n)}, read ${PRICES.s3PutRequest.read})`, (byService('s3:PutObject') / n) * PRICES.s3PutRequest.dollars],
    [`S3 GET requests (${fixed(byService('s3:GetObject') / n)}, read ${PRICES.s3GetRequest.read})`, (byService('s3:GetObject') / n) * PRICES.s3GetRequest.dollars],
    [`CloudWatch Logs ingestion (${fixed(logBytes / n, 0)} B)`, (logBytes / n / 1024 ** 3) * PRICES.logsIngestedGb.dollars],
    [`X-Ray traces (${fixed((invocations / n) * tracedShare, 3)} sampled${values.tracing ? '' : ', tracing off'})`, (invocations / n) * tracedShare * PRICES.xrayTrace.dollars],
    ...billLines(run, overheads),
  ];
  const perMillion = costs.reduce((sum, [, cost]) => sum + cost, 0) * 1e6;
  const onDemandUnits = (writeUnits / n) * PRICES.dynamoWriteUnit.dollars + (readUnits / n) * PRICES.dynamoReadUnit.dollars;
  const provisionedUnits =
    (writeUnits / n) * provisionedDollarsPerMillionUnits(PRICES.dynamoProvisionedWriteUnitHour, PROVISIONED_UTILISATION) / 1e6 +
    (readUnits / n) * provisionedDollarsPerMillionUnits(PRICES.dynamoProvisionedReadUnitHour, PROVISIONED_UTILISATION) / 1e6;
  const provisionedPerMillion = perMillion + (provisionedUnits - onDemandUnits) * 1e6;
  const dominant = [...costs].sort((a, b) => b[1] - a[1])[0]!;

  const lines = [
    '',
    `=== ${n} requests, payload about ${run.payloadKb} KB: submit, ${queues.requests.consumer}, one webhook (204), one poll${run.feature ? `; ${run.feature}` : ''} ===`,
    run.rate
      ? `  (sustained: ${run.rate} requests/s asked, ${fixed(n / run.seconds, 1)} reached on this machine; batching window ${queues.requests.maxBatchingWindowSeconds} s, batch size ${queues.requests.batchSize}, as the stack sets them)`
      : `  (one request at a time; receivers answer after ${values['receiver-ms']} ms)`,
    '',
    'AWS calls per request, by handler (event-source receives and deletes per batch, as billed)',
    `  ${'handler'.padEnd(16)}${'service:operation'.padEnd(40)}${'calls'.padStart(7)}${'RCU'.padStart(8)}${'WCU'.padStart(8)}`,
    ...[...rows]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, row]) => {
        const [name, operation] = key.split('\t') as [string, string];
        return `  ${name.padEnd(16)}${operation.padEnd(40)}${fixed(row.calls / n).padStart(7)}${fixed(row.read / n).padStart(8)}${fixed(row.write / n).padStart(8)}`;
      }),
    '',
    `AWS calls per request: ${fixed(handlerCalls / n)}`,
    `  (the handlers' own calls without the poll; budget ${CALL_BUDGET}; event-source calls and the poll are in the table and the cost)`,
    `DynamoDB capacity per request: ${fixed(writeUnits / n)} write units, ${fixed(readUnits / n)} read units (DynamoDB Local's figures, indexes included; transactions computed from item sizes at twice the units)`,
    '',
    'Lambda invocations per request and measured duration on this machine',
    ...[...byFunction].map(([name, durations]) => {
      const sorted = [...durations].sort((a, b) => a - b);
      const mean = durations.reduce((a, b) => a + b, 0) / durations.length;
      const records = name && isSqsConsumer(name) ? ` (${fixed(n / durations.length, 1)} requests per batch)` : '';
      return `  ${name.padEnd(16)}${fixed(durations.length / n).padStart(6)} invocations   mean ${fixed(mean, 1).padStart(7)} ms   p50 ${fixed(sorted[Math.floor(sorted.length / 2)]!, 1).padStart(7)} ms   ${functions[name].memoryMb} MB${records}`;
    }),
    '',
    `Log bytes per request at INFO: ${fixed(logBytes / n, 0)} written by the handlers (Lambda's START/END/REPORT, ${fixed(platformLogBytes / n, 0)} more, filtered out at system level WARN)`,
    ...[...run.logBytes].filter(([name]) => name !== '(outside)').map(([name, bytes]) => `  ${name.padEnd(16)}${fixed(bytes / n, 0).padStart(6)} B`),
    '',
    `Cost per request at ${PRICES_REGION} list prices read ${PRICES_READ}, per million requests`,
    ...costs.map(([label, cost]) => `  ${label.padEnd(52)}${dollars(cost * 1e6).padStart(8)}`),
    `  dominant line: ${dominant[0]}`,
    ...(deliveryNote ? [deliveryNote] : []),
    `cost per million requests: ${dollars(perMillion)}`,
    `  (goal ${dollars(costGoalOf(run))} for this workload; Lambda durations are this machine's against the emulators, not AWS's)`,
  ];
  if (stretchedGbSeconds > gbSeconds) {
    lines.splice(lines.indexOf(`cost per million requests: ${dollars(perMillion)}`), 0, `  (Lambda duration: ${fixed(stretchedGbSeconds / n, 4)} GB-s measured with ${fixed(n / run.seconds, 1)} requests/s in one process, billed at the one-at-a-time run's ${fixed(gbSeconds / n, 4)})`);
  }
  console.log(lines.join('\n'));
  return { perMillion, provisionedPerMillion, gbSecondsPerRequest: gbSeconds / n, callsPerRequest: handlerCalls / n };
}

const GB = 1024 ** 3;
// Set by billLines for the report it is part of.
let deliveryNote = '';

/** The lines of the bill beyond what the handlers' calls and invocations cost, per request. */
function billLines(run: Run, overheads: Overheads): [string, number][] {
  const n = run.requests;
  const coldRatio = Number(values['cold-ratio']);
  const monthlyRequests = Number(values['monthly-requests']);
  const accessLogBytes = overheads.stack.accessLogFormat ? accessLogLineBytes(overheads.stack.accessLogFormat) : 0;
  const slowestInit = Math.max(...Object.values(INIT_MS));
  const initGbSeconds = run.invocations.reduce(
    (sum, { functionName }) => sum + coldRatio * ((INIT_MS[functionName] ?? slowestInit) / 1000) * (functions[functionName].memoryMb / 1024),
    0,
  );
  const retentionDays = defaults.requestRetentionDays;
  const pitr = overheads.stack.pitrTables > 0;
  const kept = storageDollars((run.footprint.requestBytes + run.footprint.deliveryBytes) / n, retentionDays, pitr);
  const deliveriesMonthly = storageDollars(run.footprint.deliveryBytes / n, 365 / 12, pitr);
  const storageLabel = `${fixed(run.footprint.requestBytes / n, 0)} B request, ${fixed(run.footprint.deliveryBytes / n, 0)} B deliveries`;
  const logPrice = PRICES.logsIngestedGb;
  const lines: [string, number][] = [
    [`API Gateway access logs (${fixed(run.apiRequests / n)} × ${accessLogBytes} B, read ${logPrice.read})`, ((run.apiRequests / n) * accessLogBytes * logPrice.dollars) / GB],
    [`Lambda init phase (${coldRatio} cold, ${fixed(initGbSeconds / n, 5)} GB-s, read ${PRICES.lambdaArmGbSecond.read})`, (initGbSeconds / n) * PRICES.lambdaArmGbSecond.dollars],
    [`DynamoDB storage (${storageLabel}, ${retentionDays} d, read ${PRICES.dynamoStorageGbMonth.read})`, kept.storage],
    [`DynamoDB point-in-time recovery (${pitr ? `same bytes, ${retentionDays} d` : 'off'}, read ${PRICES.dynamoPitrGbMonth.read})`, kept.pitr],
    // Each kind for as long as the bucket's lifecycle rule keeps it (lib/constructs/storage.ts).
    [
      `S3 storage (${fixed(run.objectBytes.payload / n, 0)} B payload ${2 * retentionDays} d, ${fixed(run.objectBytes.result / n, 0)} B result ${retentionDays + 1} d, read ${PRICES.s3StorageGbMonth.read})`,
      objectStorageDollars(run.objectBytes.payload / n, 2 * retentionDays) + objectStorageDollars(run.objectBytes.result / n, retentionDays + 1),
    ],
    [`Data transfer out (${fixed(run.transferOutBytes / n, 0)} B, read ${PRICES.dataTransferOutGb.read})`, ((run.transferOutBytes / n) * PRICES.dataTransferOutGb.dollars) / GB],
    ...overheads.monthly.map(
      (line): [string, number] => [`${line.label}: $${line.dollarsPerMonth.toFixed(2)}/month over ${monthlyRequests.toLocaleString('en-US')} (read ${line.read})`, line.dollarsPerMonth / monthlyRequests],
    ),
  ];
  // Delivery records carry a TTL (lambdas/adapters/dynamo-delivery-store.ts): they leave with their last outcome plus the retention, as priced.
  deliveryNote =
    run.footprint.deliveryBytes > 0
      ? `  (delivery records expire ${retentionDays} d after their last outcome, by their TTL, and are priced for those ${retentionDays} d; each further month they were kept would add ${dollars((deliveriesMonthly.storage + deliveriesMonthly.pitr) * 1e6)} per million requests)`
      : '';
  return lines;
}

/**
 * The sweepers' runs a month at their schedules, each run measured on the quiet table (an idle
 * sweep's queries, invocation and duration), priced per month: they cost the same at any traffic.
 */
async function measureSweepers(runtime: LocalRuntime, calls: MeteredCall[]): Promise<MonthlyLine[]> {
  const lines: MonthlyLine[] = [];
  for (const [name, spec] of Object.entries(schedules)) {
    calls.length = 0;
    const invocations: Invocation[] = [];
    const stopRecording = recordInvocations((invocation) => invocations.push(invocation));
    const logs = captureLogs();
    const runs = 3;
    try {
      for (let i = 0; i < runs; i++) await runtime.runSchedule(name);
    } finally {
      logs.restore();
      stopRecording();
    }
    // DynamoDB bills a query that finds nothing half a read unit (eventually consistent, as index reads are).
    const own = calls
      .filter((call) => call.functionName === spec.function)
      .map((call) => (/Query|Scan/.test(call.operation) ? { ...call, readUnits: Math.max(call.readUnits, 0.5) } : call));
    const gbSeconds = invocations.reduce((sum, i) => sum + (Math.ceil(i.durationMs) / 1000) * (functions[i.functionName].memoryMb / 1024), 0);
    const perRun =
      (invocations.length * PRICES.lambdaRequest.dollars +
        gbSeconds * PRICES.lambdaArmGbSecond.dollars +
        own.reduce((sum, c) => sum + c.readUnits * PRICES.dynamoReadUnit.dollars + c.writeUnits * PRICES.dynamoWriteUnit.dollars, 0) +
        own.filter((c) => c.operation.startsWith('sqs:')).reduce((sum, c) => sum + c.billedRequests * PRICES.sqsRequest.dollars, 0)) /
      runs;
    const runsPerMonth = ((365 / 12) * 24 * 60) / spec.everyMinutes;
    lines.push({
      label: `${name} runs (${Math.round(runsPerMonth).toLocaleString('en-US')} × ${fixed(own.length / runs, 0)} calls, ${fixed(own.reduce((sum, c) => sum + c.readUnits, 0) / runs, 1)} RCU)`,
      dollarsPerMonth: perRun * runsPerMonth,
      read: PRICES.lambdaArmGbSecond.read,
    });
  }
  return lines;
}

/** A merchant with its own API key and one endpoint at the sink, for the many-merchant workload. */
async function extraMerchant(runtime: LocalRuntime, n: number): Promise<string> {
  const merchants = new DynamoMerchantStore(dynamoClient(), runtime.resources.tableName);
  const merchant = await merchants.createMerchant({ name: `Heat merchant ${n}` });
  const { key } = await merchants.createApiKey(merchant.id);
  await registerSink(runtime, key);
  return key;
}

async function registerSink(runtime: LocalRuntime, apiKey: string): Promise<void> {
  const registered = await fetch(`${runtime.url}/v1/webhooks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: sink.url }),
  });
  if (registered.status !== 201) throw new Error(`registering the receiver: ${registered.status} ${await registered.text()}`);
}

/** Runs `requests` lifecycles of 1 KB spread evenly over `apiKeys` under the heat meter. */
async function heatOf(runtime: LocalRuntime, apiKeys: readonly string[], requests: number): Promise<ShapeHeat[]> {
  const meter = meterPartitionHeat({ main: runtime.resources.tableName, secrets: runtime.resources.secretsTableName });
  const invocations: Invocation[] = [];
  const stopRecording = recordInvocations((invocation) => invocations.push(invocation));
  const logs = captureLogs();
  const submitted = new Set<string>();
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: HEAT_CONCURRENCY }, async () => {
        while (next < requests) submitted.add(await lifecycle(runtime, 1, apiKeys[next++ % apiKeys.length]));
      }),
    );
    let seen = -1;
    while (seen !== invocations.length || runtime.busy()) {
      seen = invocations.length;
      await sleep(500);
    }
  } finally {
    logs.restore();
    stopRecording();
    meter.stop();
  }
  return heatByShape(meter.samples, requests, submitted);
}

const rate = (value: number) => (Number.isFinite(value) ? Math.floor(value).toLocaleString('en-US') : 'unbounded');
const units = (value: number) => (value >= 0.1 ? value.toFixed(2) : value.toFixed(3));

/** The shape that sets the ceiling: the first that is not one request's own key. */
const limitingOf = (heat: readonly ShapeHeat[]) => heat.find((shape) => !shape.ownKeys)!;

function hottestOf(heat: readonly ShapeHeat[]): string {
  const worst = limitingOf(heat);
  const perRequest = worst.binding === 'write' ? worst.writeUnitsPerRequest : worst.readUnitsPerRequest;
  return `${worst.place} ${worst.shape}, ${units(perRequest)} ${worst.binding} units per request`;
}

function heatTable(title: string, heat: readonly ShapeHeat[]): string[] {
  return [
    title,
    `  ${'where'.padEnd(14)}${'key shape'.padEnd(34)}${'values'.padStart(7)}${'WCU/req'.padStart(10)}${'RCU/req'.padStart(10)}${'ceiling req/s'.padStart(16)}`,
    ...heat.map(
      (shape) =>
        `  ${shape.place.padEnd(14)}${shape.shape.padEnd(34)}${String(shape.values).padStart(7)}${units(shape.writeUnitsPerRequest).padStart(10)}${units(shape.readUnitsPerRequest).padStart(10)}${(shape.ownKeys ? "(request's own)" : rate(shape.ceiling)).padStart(16)}`,
    ),
  ];
}

/** The ceilings other than DynamoDB's partitions, as configured, at the durations `run` measured. */
function otherCeilings(run: Run): [string, number][] {
  const n = run.requests;
  const byFunction = new Map<FunctionName, Invocation[]>();
  for (const invocation of run.invocations) byFunction.set(invocation.functionName, [...(byFunction.get(invocation.functionName) ?? []), invocation]);
  const meanSeconds = (list: readonly Invocation[]) => list.reduce((sum, i) => sum + i.durationMs, 0) / list.length / 1000;
  const ceilings: [string, number][] = [];
  const apiPerRequest = run.apiRequests / n;
  ceilings.push([`API stage rate (${defaultThrottle.rateLimit} API requests/s, burst ${defaultThrottle.burstLimit}; ${fixed(apiPerRequest)} API requests per request)`, defaultThrottle.rateLimit / apiPerRequest]);
  for (const [name, spec] of Object.entries(queues)) {
    const list = byFunction.get(spec.consumer);
    if (!list?.length) continue;
    const perWorker = n / list.length / meanSeconds(list);
    ceilings.push([`${name} workers (${spec.maxConcurrency} concurrent × ${fixed(perWorker, 1)} requests/s each: ${fixed(n / list.length, 1)} per batch, ${fixed(meanSeconds(list) * 1000, 1)} ms)`, spec.maxConcurrency * perWorker]);
  }
  const busySecondsPerRequest = [...byFunction.values()].reduce((sum, list) => sum + (list.length / n) * meanSeconds(list), 0);
  ceilings.push([`Lambda account concurrency (${ACCOUNT_CONCURRENCY.toLocaleString('en-US')}, the default quota; ${fixed(busySecondsPerRequest * 1000, 1)} ms of functions per request)`, ACCOUNT_CONCURRENCY / busySecondsPerRequest]);
  return ceilings;
}

async function reportHeat(runtime: LocalRuntime, measured: Run): Promise<void> {
  const requests = Number(values['heat-requests']);
  const merchants = Number(values['heat-merchants']);
  const keys = [];
  for (let n = 0; n < merchants; n++) keys.push(await extraMerchant(runtime, n));
  const many = await heatOf(runtime, keys, requests);
  const one = await heatOf(runtime, [runtime.apiKey], requests);
  const manyCeiling = limitingOf(many).ceiling;
  const oneCeiling = limitingOf(one).ceiling;
  const ceilings: [string, number][] = [[`DynamoDB partitions (many merchants)`, manyCeiling], ...otherCeilings(measured)];
  const lowest = [...ceilings].sort((a, b) => a[1] - b[1])[0]!;
  const lines = [
    '',
    `=== Partition heat: ${requests} requests of 1 KB (submit, ${queues.requests.consumer}, one webhook (204), one poll), ${HEAT_CONCURRENCY} clients ===`,
    'Per key shape, the units per request on its hottest single value, and the requests a second that value allows',
    'at 1,000 write units and 3,000 read units a second per partition key value (index entries written, moved or deleted included);',
    "a request's own key (REQ#<its id>) takes the same units at any rate and sets no ceiling.",
    '',
    ...heatTable(`many merchants: ${requests} requests spread evenly over ${merchants} merchants, one endpoint each`, many),
    '',
    ...heatTable(`one merchant alone: ${requests} requests, one endpoint`, one),
    '',
    `DynamoDB ceiling: ${Math.floor(manyCeiling)} requests/s (hottest: ${hottestOf(many)})`,
    `one merchant ceiling: ${Math.floor(oneCeiling)} requests/s (hottest: ${hottestOf(one)})`,
    '',
    `Other ceilings as configured, at the durations measured above (${measured.payloadKb} KB run)`,
    ...ceilings.slice(1).map(([label, value]) => `  ${label.padEnd(110)}${rate(value).padStart(10)} requests/s`),
    `lowest ceiling: ${lowest[0]}, ${rate(lowest[1])} requests/s`,
  ];
  console.log(lines.join('\n'));
}

/** Sets the reference endpoint's `rateLimitPerSecond` (null clears it). */
async function setEndpointRate(runtime: LocalRuntime, endpointId: string, perSecond: number | null): Promise<void> {
  const patched = await fetch(`${runtime.url}/v1/webhooks/${endpointId}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${runtime.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ rateLimitPerSecond: perSecond }),
  });
  if (patched.status !== 200) throw new Error(`setting the endpoint's rate limit: ${patched.status} ${await patched.text()}`);
}

/**
 * The optional features whose price is paid only by those who use them, each run as the 1 KB
 * reference workload one request at a time with that one feature on: the endpoint at
 * `rateLimitPerSecond` (one slot taken per delivery, never a wait at this pace), then a
 * `callbackUrl` on every submit (a second delivery per request, to its own receiver). Each is
 * printed beside the reference run, which sets neither.
 */
async function reportFeatures(runtime: LocalRuntime, calls: MeteredCall[], overheads: Overheads, endpointId: string, reference: Priced): Promise<void> {
  const requests = Number(values['feature-requests']);
  const perSecond = Number(values['rate-limited']);
  const rows: [string, Priced][] = [];
  if (perSecond > 0) {
    await setEndpointRate(runtime, endpointId, perSecond);
    try {
      const feature = `the endpoint at rateLimitPerSecond ${perSecond}`;
      rows.push([feature, report(await measure(runtime, calls, 1, requests, 1, undefined, { feature }), overheads)]);
    } finally {
      await setEndpointRate(runtime, endpointId, null);
    }
  }
  const secret = await fetch(`${runtime.url}/v1/callback-secret`, { headers: { authorization: `Bearer ${runtime.apiKey}` } });
  if (secret.status !== 200 && secret.status !== 201) throw new Error(`creating the callback secret: ${secret.status} ${await secret.text()}`);
  const feature = 'a callbackUrl on every submit';
  rows.push([feature, report(await measure(runtime, calls, 1, requests, 1, undefined, { feature, callback: true }), overheads)]);
  const row = (label: string, priced: Priced, extra = '') =>
    `  ${label.padEnd(48)}${fixed(priced.callsPerRequest).padStart(10)}${dollars(priced.perMillion).padStart(14)}${extra}`;
  console.log(
    [
      '',
      `=== Optional features, priced when used: ${requests} requests of 1 KB each, one at a time, beside the reference ===`,
      `  ${'workload'.padEnd(48)}${'AWS calls'.padStart(10)}${'$/million'.padStart(14)}`,
      row('reference (no rate limit, no callback)', reference),
      ...rows.map(([label, priced]) => row(label, priced, `   (${priced.perMillion >= reference.perMillion ? '+' : '-'}${dollars(Math.abs(priced.perMillion - reference.perMillion))})`)),
    ].join('\n'),
  );
}

type ClientWait = 'polling' | 'long-poll';
/** The `Retry-After` values the polling client followed: the interval the comparison assumes. */
const pollingIntervals = new Set<string>();
/** Each waiting run's figures, for the summary. */
const waitingResults: { ms: number; longPoll: number; polling: number }[] = [];

/**
 * One request of `ms` of work, its outcome awaited by the client the given way; returns the
 * status calls it made. Polling follows `Retry-After` (1 s while the request runs); the long-poll
 * sends the copy it holds and asks to wait 20 s, again until the request has finished.
 */
async function awaitOutcome(runtime: LocalRuntime, how: ClientWait, ms: number): Promise<number> {
  const headers = { authorization: `Bearer ${runtime.apiKey}` };
  const submitted = await fetch(`${runtime.url}/v1/requests`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify({ type: 'demo.sleep', payload: orderPayload(1, { ms }) }),
  });
  if (submitted.status !== 202) throw new Error(`submit answered ${submitted.status}`);
  const { id } = (await submitted.json()) as { id: string };
  pollingIntervals.add(submitted.headers.get('retry-after') ?? '1');
  let etag: string | undefined;
  for (let calls = 1; ; calls++) {
    const asked = how === 'long-poll' ? { prefer: 'wait=20', ...(etag ? { 'if-none-match': etag } : {}) } : {};
    const answer = await fetch(`${runtime.url}/v1/requests/${id}`, { headers: { ...headers, ...asked } });
    if (answer.status !== 200 && answer.status !== 304) throw new Error(`status answered ${answer.status}`);
    etag = answer.headers.get('etag') ?? etag;
    const retryAfter = answer.headers.get('retry-after');
    await answer.arrayBuffer();
    if (answer.status === 200 && retryAfter === null) return calls;
    if (how === 'polling') {
      pollingIntervals.add(retryAfter ?? '1');
      await sleep(Number(retryAfter ?? 1) * 1000);
    }
  }
}

/** What the status side of awaiting one request costs, per request, in dollars and in its parts. */
async function measureWaiting(runtime: LocalRuntime, calls: MeteredCall[], how: ClientWait, requests: number, ms: number) {
  calls.length = 0;
  const invocations: Invocation[] = [];
  const stopRecording = recordInvocations((invocation) => invocations.push(invocation));
  const logs = captureLogs();
  let statusCalls = 0;
  try {
    for (let i = 0; i < requests; i++) statusCalls += await awaitOutcome(runtime, how, ms);
    // The webhooks of the last requests are still on their way: let them land inside the capture.
    while (runtime.busy()) await sleep(200);
  } finally {
    logs.restore();
    stopRecording();
  }
  const status = invocations.filter((invocation) => invocation.functionName === 'status');
  const gbSeconds = status.reduce((sum, invocation) => sum + (Math.ceil(invocation.durationMs) / 1000) * (functions.status.memoryMb / 1024), 0);
  const dynamo = calls.filter((call) => call.functionName === 'status');
  const readUnits = dynamo.reduce((sum, call) => sum + call.readUnits, 0);
  const writeUnits = dynamo.reduce((sum, call) => sum + call.writeUnits, 0);
  const dollars =
    statusCalls * PRICES.httpApiRequest.dollars +
    status.length * PRICES.lambdaRequest.dollars +
    gbSeconds * PRICES.lambdaArmGbSecond.dollars +
    readUnits * PRICES.dynamoReadUnit.dollars +
    writeUnits * PRICES.dynamoWriteUnit.dollars;
  return {
    how,
    perRequest: (value: number) => value / requests,
    statusCalls,
    gbSeconds,
    awsCalls: dynamo.length,
    readUnits,
    writeUnits,
    perMillion: (dollars / requests) * 1e6,
  };
}

async function reportWaiting(runtime: LocalRuntime, calls: MeteredCall[]): Promise<void> {
  const requests = Number(values['wait-requests']);
  for (const ms of values['wait-ms'].split(',').map(Number)) {
    pollingIntervals.clear();
    const polling = await measureWaiting(runtime, calls, 'polling', requests, ms);
    const interval = [...pollingIntervals].join(' or ');
    const longPoll = await measureWaiting(runtime, calls, 'long-poll', requests, ms);
    waitingResults.push({ ms, longPoll: longPoll.perMillion, polling: polling.perMillion });
    const row = (m: typeof polling) =>
      `  ${m.how.padEnd(12)}${fixed(m.perRequest(m.statusCalls)).padStart(8)}${fixed(m.perRequest(m.gbSeconds), 4).padStart(12)}${fixed(m.perRequest(m.awsCalls)).padStart(10)}${fixed(m.perRequest(m.readUnits)).padStart(8)}${fixed(m.perRequest(m.writeUnits)).padStart(8)}${dollars(m.perMillion).padStart(12)}`;
    console.log(
      [
        '',
        `=== Waiting instead of polling: ${requests} requests of 1 KB and ${ms} ms of work${ms === 0 ? ' (the reference workload)' : ''}, the client awaiting each outcome ===`,
        `What the status side costs per request (API requests, the status function at ${functions.status.memoryMb} MB held while it waits, its DynamoDB calls), per million requests;`,
        `polling at Retry-After (${interval} s), the long-poll with Prefer: wait=20 and If-None-Match`,
        `  ${'client'.padEnd(12)}${'calls'.padStart(8)}${'GB-s'.padStart(12)}${'AWS'.padStart(10)}${'RCU'.padStart(8)}${'WCU'.padStart(8)}${'$/million'.padStart(12)}`,
        row(polling),
        row(longPoll),
        `one long-poll instead of polling: $${fixed(longPoll.perMillion)} against $${fixed(polling.perMillion)} per million requests (${longPoll.perMillion <= polling.perMillion ? 'no more than' : 'more than'} the polls it replaces)`,
      ].join('\n'),
    );
  }
}

async function main(): Promise<void> {
  const requests = Number(values.requests);
  const concurrency = Number(values.concurrency);
  const sizes = values['payload-kb'].split(',').map(Number);
  const rate = Number(values.rate);
  const stack = readStackBill();
  const runtime = await startLocalRuntime({ port: 0, schedules: false, maxBatchingWindowSeconds: 0 });
  const receiver = (sink = await startWebhookSink({ answerAfterMs: Number(values['receiver-ms']) }));
  callbackSink = await startWebhookSink({ answerAfterMs: Number(values['receiver-ms']) });
  try {
    const registered = await fetch(`${runtime.url}/v1/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${runtime.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url }),
    });
    if (registered.status !== 201) throw new Error(`registering the receiver: ${registered.status} ${await registered.text()}`);
    const endpointId = ((await registered.json()) as { id: string }).id;
    const calls = meterAwsCalls();
    // Load every handler module and fill the warm caches (authorizer, endpoint list) first.
    const silenced = captureLogs();
    try {
      await lifecycle(runtime, 1);
    } finally {
      silenced.restore();
    }
    const overheads: Overheads = { stack, monthly: [...fixedMonthlyLines(stack), ...(await measureSweepers(runtime, calls))] };
    console.log(`Lifecycle benchmark on the local runtime (DynamoDB Local + fauxqs), ${concurrency} concurrent clients`);
    const runs: Run[] = [];
    const priced: Priced[] = [];
    for (const payloadKb of sizes) {
      const run = await measure(runtime, calls, payloadKb, requests, concurrency);
      priced.push(report(run, overheads));
      if (payloadKb === 1) overheads.gbSecondsPerRequestAlone ??= priced.at(-1)!.gbSecondsPerRequest;
      runs.push(run);
    }
    let sustained: Priced | undefined;
    if (rate > 0) {
      runtime.setBatchingWindow(undefined);
      sustained = report(await measure(runtime, calls, 1, requests, concurrency, rate), overheads);
      runtime.setBatchingWindow(0);
    }
    if (Number(values['feature-requests']) > 0) await reportFeatures(runtime, calls, overheads, endpointId, priced[sizes.indexOf(1)] ?? priced[0]!);
    if (Number(values['wait-requests']) > 0) await reportWaiting(runtime, calls);
    stopMeteringAwsCalls();
    if (Number(values['heat-requests']) > 0) await reportHeat(runtime, runs[0]!);
    const largest = sizes.length > 1 ? sizes.indexOf(Math.max(...sizes)) : -1;
    const monthly = overheads.monthly.reduce((sum, line) => sum + line.dollarsPerMonth, 0);
    console.log(
      [
        '',
        `=== Summary (${PRICES_REGION} list prices; fixed lines ${dollars(monthly)} a month over ${Number(values['monthly-requests']).toLocaleString('en-US')} requests) ===`,
        `cost per million requests: ${dollars(priced[0]!.perMillion)}`,
        ...(sustained ? [`cost per million requests at ${rate} requests/s: ${dollars(sustained.perMillion)}`] : []),
        ...(largest >= 0 ? [`cost per million requests at ${sizes[largest]} KB: ${dollars(priced[largest]!.perMillion)}`] : []),
        `cost per million requests on provisioned capacity at ${PROVISIONED_UTILISATION * 100} % utilisation: ${dollars((sustained ?? priced[0]!).provisionedPerMillion)}${sustained ? ` (the ${rate} requests/s run)` : ''}`,
        ...waitingResults.map(
          (w) => `one long-poll instead of polling (${w.ms === 0 ? 'reference workload' : `${w.ms} ms of work`}): ${dollars(w.longPoll)} against ${dollars(w.polling)} per million requests, status side`,
        ),
        '',
      ].join('\n'),
    );
  } finally {
    await receiver.close();
    await callbackSink.close();
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
