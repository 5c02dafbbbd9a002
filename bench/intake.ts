/**
 * `npm run bench:intake`: the intake path (POST /v1/requests) against the local runtime.
 *
 *   npm run bench:intake -- [--requests 2000] [--concurrency 32]
 *
 * Starts the whole runtime on embedded endpoints with its queue consumers and schedules off, so
 * the AWS calls counted are the submit path's alone. An SDK middleware on the handlers' own clients
 * (`createdClients()`) counts every HTTP call they make, retries included. Prints throughput,
 * latency percentiles, and calls per new submit and per replay (budget: 2 and 1).
 * A benchmark, not a test: it prints figures and asserts nothing.
 */
import './support/quiet';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { startLocalRuntime, type LocalRuntime } from '../lib/local/runtime';
import { countAwsCalls } from './support/aws-call-counter';

interface Phase {
  readonly label: string;
  readonly latenciesMs: number[];
  readonly statuses: Map<number, number>;
  readonly elapsedMs: number;
  readonly calls: Map<string, number>;
}

let calls = new Map<string, number>();

async function phase(
  label: string,
  runtime: LocalRuntime,
  keys: string[],
  concurrency: number,
): Promise<Phase> {
  calls.clear();
  const latenciesMs: number[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < keys.length) {
        const key = keys[next++]!;
        const t0 = performance.now();
        const response = await fetch(`${runtime.url}/v1/requests`, {
          method: 'POST',
          headers: { authorization: `Bearer ${runtime.apiKey}`, 'content-type': 'application/json', 'idempotency-key': key },
          body: JSON.stringify({ type: 'demo.sleep', payload: { ms: 0, key } }),
        });
        await response.arrayBuffer();
        latenciesMs.push(performance.now() - t0);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      }
    }),
  );
  return { label, latenciesMs, statuses, elapsedMs: performance.now() - started, calls: new Map(calls) };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function report(result: Phase, budget: number): void {
  const sorted = [...result.latenciesMs].sort((a, b) => a - b);
  const count = sorted.length;
  const total = [...result.calls.values()].reduce((a, b) => a + b, 0);
  const perRequest = total / count;
  console.log(`\n${result.label}: ${count} submits in ${(result.elapsedMs / 1000).toFixed(2)} s`);
  console.log(`  throughput        ${(count / (result.elapsedMs / 1000)).toFixed(0)} requests/s`);
  console.log(`  latency           p50 ${percentile(sorted, 50).toFixed(1)} ms   p99 ${percentile(sorted, 99).toFixed(1)} ms   max ${sorted[count - 1]!.toFixed(1)} ms`);
  console.log(`  statuses          ${[...result.statuses].map(([s, n]) => `${s}×${n}`).join('  ')}`);
  console.log(`  AWS calls         ${perRequest.toFixed(2)} per submit (budget ${budget})${perRequest <= budget ? '' : '  OVER BUDGET'}`);
  for (const [name, n] of [...result.calls].sort()) console.log(`    ${name.padEnd(34)} ${n}  (${(n / count).toFixed(2)} per submit)`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { requests: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '32' } },
  });
  const requests = Number(values.requests);
  const concurrency = Number(values.concurrency);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

  console.log('Starting the local runtime (queue consumers and schedules off) ...');
  // Consumers and schedules off: every call the clients make is then the submit path's.
  const runtime = await startLocalRuntime({ port: 0, consumers: false, schedules: false });
  try {
    calls = countAwsCalls();
    const run = Date.now().toString(36);
    // Loads the handler modules, fills the authorizer cache and opens connections.
    await phase('warm-up', runtime, Array.from({ length: 64 }, (_, i) => `warm-${run}-${i}`), concurrency);
    const keys = Array.from({ length: requests }, (_, i) => `bench-${run}-${i}`);
    console.log(`${requests} requests, ${concurrency} concurrent clients, against ${runtime.url}`);
    report(await phase('New submits', runtime, keys, concurrency), 2);
    report(await phase('Replays (same key, same body)', runtime, keys, concurrency), 1);
  } finally {
    await runtime.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
