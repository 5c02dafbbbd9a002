/**
 * `npm run bench:delivery`: webhook delivery against real HTTP receivers on loopback.
 *
 *   npm run bench:delivery -- [--requests 400] [--concurrency 16] [--rate 1] [--seconds 30]
 *
 * Starts the whole local runtime on embedded endpoints and calls the webhook fan-out for
 * synthetic finished requests, so the figures cover fan-out → deliveries queue → deliver → receiver.
 *   1. throughput: `--requests` events to one healthy endpoint, as fast as the fan-out allows:
 *      deliveries per second and completion-to-receipt latency (p50, p99);
 *   2. isolation: `--rate` events per second for `--seconds` to four healthy endpoints, then the
 *      same with a fifth endpoint that accepts connections and never answers: the healthy p99 with
 *      and without it (target: the dead endpoint changes it by less than 2×).
 * A benchmark, not a test: it prints figures and asserts nothing.
 */
import './support/quiet';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ulid } from 'ulid';
import { dynamoClient } from '../lambdas/adapters/aws-clients';
import { DynamoMerchantStore } from '../lambdas/adapters/dynamo-merchant-store';
import { WebhookFanOut } from '../lambdas/core/webhooks/fan-out-webhooks';
import type { HeraldRequest } from '../lambdas/core/requests/request';
import { logger } from '../lambdas/handlers/shared/observability';
import { deliveryQueue, deliveryStore, webhookEndpointStore } from '../lambdas/handlers/shared/dependencies';
import { startLocalRuntime, type LocalRuntime } from '../lib/local/runtime';
import { queues } from '../lib/topology';
import { startReceiver, type WebhookReceiver } from '../test/support/webhook-receiver';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '16' },
    rate: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '30' },
  },
});

/** When each event was finished (fan-out called), and when each receiver got it. */
const finishedAt = new Map<string, number>();
const latencies = new Map<string, number[]>();

/**
 * A receiver that notes when each event reached it under `label`; one that does not `answer`
 * takes the body and never replies.
 */
function receiver(label: string, answer: boolean): Promise<WebhookReceiver> {
  return startReceiver({
    record: false,
    reply: (_n, webhook) => {
      const now = performance.now();
      if (!answer) return 'hang';
      const requestId = (JSON.parse(webhook.body) as { data: { id: string } }).data.id;
      const started = finishedAt.get(requestId);
      if (started !== undefined) {
        const list = latencies.get(label) ?? [];
        list.push(now - started);
        latencies.set(label, list);
      }
      return { status: 200 };
    },
  });
}

async function merchantWith(runtime: LocalRuntime, name: string, urls: string[]): Promise<string> {
  const store = new DynamoMerchantStore(dynamoClient(), runtime.resources.tableName);
  const merchant = await store.createMerchant({ name });
  const { key } = await store.createApiKey(merchant.id);
  for (const url of urls) {
    const response = await fetch(`${runtime.url}/v1/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url }),
    });
    if (response.status !== 201) throw new Error(`registering ${url}: ${response.status} ${await response.text()}`);
  }
  return merchant.id;
}

function finishedRequest(merchantId: string): HeraldRequest {
  const at = new Date().toISOString();
  return {
    id: `req_${ulid().toLowerCase()}`,
    merchantId,
    type: 'bench.delivery',
    payload: {},
    status: 'succeeded',
    version: 3,
    attempts: 1,
    idempotencyKey: ulid(),
    webhookEvents: true,
    result: { ok: true },
    history: [],
    createdAt: at,
    updatedAt: at,
  };
}

const fanOut = () => new WebhookFanOut({ endpoints: webhookEndpointStore(), queue: deliveryQueue() });

async function publish(merchantId: string): Promise<void> {
  const request = finishedRequest(merchantId);
  finishedAt.set(request.id, performance.now());
  await fanOut().requestFinished(request);
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await sleep(50);
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
const ms = (value: number) => `${value.toFixed(1)} ms`;

function summary(labels: string[]): { count: number; p50: number; p99: number } {
  const all = labels.flatMap((label) => latencies.get(label) ?? []).sort((a, b) => a - b);
  return { count: all.length, p50: percentile(all, 50), p99: percentile(all, 99) };
}

async function paced(merchantId: string, rate: number, seconds: number): Promise<void> {
  const total = Math.round(rate * seconds);
  const started = performance.now();
  const sends: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    sends.push(publish(merchantId));
  }
  await Promise.all(sends);
}

async function main(): Promise<void> {
  const requests = Number(values.requests);
  const concurrency = Number(values.concurrency);
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  // The hanging receiver makes every attempt to it fail: expected, and not worth a log line here.
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  logger.setLogLevel('ERROR');
  // The real schedule: a receiver that never answers is retried after about 5 s, then minutes later.
  const runtime = await startLocalRuntime({ port: 0, retryScale: 1, deliveryPollers: queues.deliveries.maxConcurrency });
  const receivers: WebhookReceiver[] = [];
  try {
    // 1. Throughput.
    const fast = await receiver('throughput', true);
    receivers.push(fast);
    const m1 = await merchantWith(runtime, 'bench throughput', [fast.url]);
    await publish(m1); // warm the handler modules, clients and caches
    await until(() => (latencies.get('throughput')?.length ?? 0) >= 1, 20_000);
    latencies.clear();
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < requests) {
          next++;
          await publish(m1);
        }
      }),
    );
    await until(() => (latencies.get('throughput')?.length ?? 0) >= requests, 120_000);
    const elapsed = (performance.now() - started) / 1000;
    const throughput = summary(['throughput']);

    // 2. Isolation: four healthy endpoints, without and then with one that never answers.
    const healthy = await Promise.all([0, 1, 2, 3].map(async (i) => receiver(`healthy-${i}`, true)));
    const healthyDead = await Promise.all([0, 1, 2, 3].map(async (i) => receiver(`healthy+dead-${i}`, true)));
    const dead = await receiver('dead', false);
    receivers.push(...healthy, ...healthyDead, dead);
    const m2 = await merchantWith(runtime, 'bench healthy', healthy.map((r) => r.url));
    const m3 = await merchantWith(runtime, 'bench healthy and dead', [...healthyDead.map((r) => r.url), dead.url]);
    const expected = Math.round(rate * seconds) * 4;

    await paced(m2, rate, seconds);
    await until(() => summary(healthy.map((_, i) => `healthy-${i}`)).count >= expected, 30_000);
    const without = summary(healthy.map((_, i) => `healthy-${i}`));

    await paced(m3, rate, seconds);
    await until(() => summary(healthyDead.map((_, i) => `healthy+dead-${i}`)).count >= expected, 60_000);
    const withDead = summary(healthyDead.map((_, i) => `healthy+dead-${i}`));

    console.log(
      [
        '',
        `Webhook delivery, local runtime (DynamoDB Local + fauxqs), receivers on 127.0.0.1`,
        '',
        `throughput: ${throughput.count}/${requests} events to 1 endpoint, fan-out concurrency ${concurrency}`,
        `  ${(throughput.count / elapsed).toFixed(1)} deliveries/s over ${elapsed.toFixed(1)} s`,
        `  completion-to-receipt p50 ${ms(throughput.p50)}, p99 ${ms(throughput.p99)}`,
        '',
        `isolation: ${rate} events/s for ${seconds} s, 4 healthy endpoints each`,
        `  healthy only:                 ${without.count}/${expected} received, p50 ${ms(without.p50)}, p99 ${ms(without.p99)}`,
        `  plus 1 endpoint that hangs:   ${withDead.count}/${expected} received, p50 ${ms(withDead.p50)}, p99 ${ms(withDead.p99)}`,
        `  healthy p99 changed ${(withDead.p99 / without.p99).toFixed(2)}× (target < 2×)`,
        '',
      ].join('\n'),
    );
  } finally {
    await Promise.all(receivers.map((r) => r.close()));
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
