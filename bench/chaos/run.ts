/**
 * `npm run chaos -- --requests N --seed S`: Herald under fire, checked end to end.
 *
 * Starts the local runtime as a child process on a data directory, webhook receivers and an
 * effect ledger, and drives N requests from concurrent clients (10 % of them replayed with the
 * same Idempotency-Key). Faults, all drawn from the seed: processors failing transiently (20 %)
 * and for good (2 %); receivers answering 500, 429 with Retry-After, hanging past the attempt
 * timeout, resetting the connection or being down for a while; the runtime killed with SIGKILL
 * (at least 3 times) and started again on the same directory; the requests queue refusing sends
 * for a few seconds; an operator redriving both dead-letter queues, without `--max`, halfway
 * through the submissions and again as soon as the settling finds a request dead-lettered, while
 * requests keep failing (a request that exhausts its attempts fails every round, so a redriven
 * one is soon back in the DLQ). Retries follow a short schedule from the environment, so a run
 * takes minutes.
 *
 * Then it checks every invariant and prints one line:
 *
 *   requests=300 lost=0 double_effects=0 undelivered=0 duplicates=16 dlq=3 elapsed=96s
 *
 * and exits 1 if any invariant broke (details go to stderr). See docs/operations.md.
 */
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { CHAOS_REQUEST_TYPE } from '../../lib/local/chaos';
import { restartablePort } from '../../lib/local/free-port';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type LocalEndpoints, type ProvisionedResources } from '../../lib/local/provision';
import { startReceiver, verifyWebhook, type ReceivedWebhook, type Reply } from '../../test/support/webhook-receiver';
import { startLedger } from './effect-ledger';
import { startRuntimeProcess, type RuntimeProcess } from './runtime-process';

const PROJECT_ROOT = resolve(__dirname, '..', '..');

const USAGE = `Usage: npm run chaos -- [--requests N] [--seed S] [--clients C] [--crashes K] [--data-dir DIR] [--verbose]
  --requests   requests to drive (default 2000)
  --seed       makes every fault decision reproducible (default 1)
  --clients    concurrent clients (default 8)
  --crashes    SIGKILL + restart cycles of the runtime, at least 3 (default 3)
  --data-dir   keep the runtime's table here (default: a new temporary directory, removed after)
  --settle     seconds to wait for everything to finish after the last submit (default 240)`;

/** The short retry schedule a run uses instead of the topology's hours: every wait in seconds. */
const CHAOS_RETRY_ENVIRONMENT = {
  HERALD_RETRY_SCALE: '1',
  HERALD_REQUEST_RETRY_DELAYS: '1,1,2',
  HERALD_REQUEST_MAX_ATTEMPTS: '5',
  HERALD_DELIVERY_RETRY_DELAYS: '1,2,3,3',
  HERALD_DELIVERY_MAX_ATTEMPTS: '8',
  HERALD_SWEEP_UNENQUEUED_AFTER_SECONDS: '5',
  HERALD_SWEEP_STALE_ENQUEUE_AFTER_SECONDS: '30',
  HERALD_CHAOS_SCHEDULE_MS: '5000',
  POWERTOOLS_LOG_LEVEL: 'ERROR',
};

const MERCHANT_A = { id: 'mer_local_demo', key: 'hrld_chaos_merchant_a_0123456789abcdef' };
const MERCHANT_B = { id: 'mer_chaos_b', key: 'hrld_chaos_merchant_b_0123456789abcdef' };
/** Receivers per merchant; the last one of merchant B hears only `request.succeeded`. */
const RECEIVERS_PER_MERCHANT = 2;

interface Options {
  readonly requests: number;
  readonly seed: number;
  readonly clients: number;
  readonly crashes: number;
  readonly dataDir?: string;
  readonly settleSeconds: number;
  readonly verbose: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '2000' },
      seed: { type: 'string', default: '1' },
      clients: { type: 'string', default: '8' },
      crashes: { type: 'string', default: '3' },
      'data-dir': { type: 'string' },
      settle: { type: 'string', default: '240' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const whole = (name: string, text: string, min: number) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) {
      console.error(`chaos: --${name} must be a whole number of at least ${min}\n${USAGE}`);
      process.exit(2);
    }
    return value;
  };
  return {
    requests: whole('requests', values.requests, 1),
    seed: whole('seed', values.seed, 0),
    clients: whole('clients', values.clients, 1),
    crashes: whole('crashes', values.crashes, 3),
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
    settleSeconds: whole('settle', values.settle, 10),
    verbose: values.verbose ?? false,
  };
}

/** A number in [0, 1) fixed by the seed and the labels: the same run decides the same way. */
function draw(seed: number, ...labels: (string | number)[]): number {
  const digest = createHash('sha256').update([seed, ...labels].join(':')).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

// ---------------------------------------------------------------------------------------------
// Webhook receivers: each verifies every signature, remembers what it accepted, and misbehaves
// on first and second arrivals as the seed decides. From the third arrival of an event on it
// answers 2xx, so every endpoint is healthy in the end.

interface Receipt {
  readonly webhookId: string;
  readonly requestId: string;
  readonly eventType: string;
}

interface Receiver {
  readonly index: number;
  readonly merchantId: string;
  readonly url: string;
  readonly eventTypes?: readonly string[];
  secret?: string;
  readonly accepted: Receipt[];
  readonly arrivals: Map<string, number>;
  badSignatures: number;
  crossTenant: number;
  misbehaved: number;
  down(ms: number): Promise<void>;
  close(): Promise<void>;
}

async function startChaosReceiver(
  index: number,
  merchantId: string,
  seed: number,
  ownerOf: (requestId: string) => { merchantId: string; operation: string } | undefined,
  eventTypes?: readonly string[],
): Promise<Receiver> {
  const misbehave = (reply: Reply): Reply => {
    receiver.misbehaved++;
    return reply;
  };
  const reply = (_n: number, webhook: ReceivedWebhook): Reply => {
    let event: { type: string; data: { id: string } };
    try {
      event = verifyWebhook(webhook, receiver.secret!);
    } catch {
      receiver.badSignatures++;
      return { status: 400, body: '' };
    }
    const webhookId = String(webhook.headers['webhook-id'] ?? '');
    const owner = ownerOf(event.data.id);
    if (owner && owner.merchantId !== merchantId) receiver.crossTenant++;
    const arrival = (receiver.arrivals.get(webhookId) ?? 0) + 1;
    receiver.arrivals.set(webhookId, arrival);
    const roll = arrival >= 3 ? 1 : draw(seed, 'receiver', index, owner?.operation ?? event.data.id, arrival);
    if (roll < 0.06) return misbehave({ status: 500, body: '' });
    if (roll < 0.1) return misbehave({ status: 429, headers: { 'Retry-After': '1' }, body: '' });
    if (roll < 0.13) return misbehave('drop');
    // Past the sender's 10 s attempt timeout: it gives up and retries.
    if (roll < 0.14) return misbehave('hang');
    receiver.accepted.push({ webhookId, requestId: event.data.id, eventType: event.type });
    return { status: 204 };
  };
  const server = await startReceiver({ reply, record: false, hangMs: 12_000, path: `/hooks/${index}` });
  const receiver: Receiver = {
    index,
    merchantId,
    url: server.url,
    ...(eventTypes ? { eventTypes } : {}),
    accepted: [],
    arrivals: new Map(),
    badSignatures: 0,
    crossTenant: 0,
    misbehaved: 0,
    down: (ms) => server.down(ms),
    close: () => server.close(),
  };
  return receiver;
}

// ---------------------------------------------------------------------------------------------
// The run.

interface Operation {
  readonly index: number;
  readonly key: string;
  readonly merchant: typeof MERCHANT_A;
  readonly body: string;
  readonly steps: number;
  readonly permanent: boolean;
  readonly exhausts: boolean;
  requestId?: string;
  /** Request ids a replay answered with, when they differ from the first: a broken idempotency. */
  readonly otherIds: Set<string>;
}

function operationOf(seed: number, index: number): Operation {
  const merchant = draw(seed, 'merchant', index) < 0.6 ? MERCHANT_A : MERCHANT_B;
  const fault = draw(seed, 'fault', index);
  const permanent = fault < 0.02;
  const exhausts = !permanent && fault < 0.03;
  const transient = !permanent && !exhausts && fault < 0.23;
  const steps = 1 + Math.floor(draw(seed, 'steps', index) * 3);
  const key = `chaos-${seed}-${index}`;
  const payload = {
    operation: key,
    steps,
    transientFailures: exhausts ? 10 : transient ? 1 + Math.floor(draw(seed, 'failures', index) * 2) : 0,
    failAfterEffects: transient && draw(seed, 'after', index) < 0.5,
    permanent,
    workMs: Math.floor(draw(seed, 'work', index) * 200),
  };
  return { index, key, merchant, body: JSON.stringify({ type: CHAOS_REQUEST_TYPE, payload }), steps, permanent, exhausts, otherIds: new Set() };
}

class Herald {
  process?: RuntimeProcess;
  up = false;
  constructor(
    readonly port: number,
    private readonly dataDir: string,
    private readonly ledgerUrl: string,
    private readonly verbose: boolean,
  ) {}

  async start(): Promise<void> {
    this.process = startRuntimeProcess({
      entry: 'bench/chaos/runtime-child.ts',
      port: this.port,
      readyLine: /^Chaos runtime ready/,
      env: {
        ...CHAOS_RETRY_ENVIRONMENT,
        HERALD_CHAOS_DATA_DIR: this.dataDir,
        HERALD_CHAOS_LEDGER_URL: this.ledgerUrl,
        HERALD_LOCAL_API_KEY: MERCHANT_A.key,
        HERALD_CHAOS_OTHER_MERCHANT: `${MERCHANT_B.id}:${MERCHANT_B.key}`,
      },
      ...(this.verbose ? { onLine: (line: string) => console.error(`  [herald] ${line}`) } : {}),
    });
    await this.process.ready(180_000);
    this.up = true;
  }

  async crash(): Promise<void> {
    this.up = false;
    await this.process?.crash();
  }

  async stop(): Promise<void> {
    this.up = false;
    await this.process?.stop();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async call(method: string, path: string, key: string, body?: string, headers: Record<string, string> = {}) {
    const response = await fetch(this.url + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body ? { body } : {}),
      signal: AbortSignal.timeout(30_000),
    });
    const textBody = await response.text();
    return { status: response.status, body: textBody ? (JSON.parse(textBody) as Record<string, any>) : undefined };
  }
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const opts = options();
  const started = Date.now();
  const log = (message: string): void => {
    if (opts.verbose) console.error(`chaos: ${message}`);
  };
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'herald-chaos-'));
  const ledger = await startLedger();
  const operations = Array.from({ length: opts.requests }, (_, i) => operationOf(opts.seed, i));
  const byRequest = new Map<string, Operation>();
  const ownerOf = (requestId: string) => {
    const operation = byRequest.get(requestId);
    return operation ? { merchantId: operation.merchant.id, operation: operation.key } : undefined;
  };
  const receivers = [
    ...(await Promise.all(Array.from({ length: RECEIVERS_PER_MERCHANT }, (_, i) => startChaosReceiver(i, MERCHANT_A.id, opts.seed, ownerOf)))),
    await startChaosReceiver(RECEIVERS_PER_MERCHANT, MERCHANT_B.id, opts.seed, ownerOf),
    await startChaosReceiver(RECEIVERS_PER_MERCHANT + 1, MERCHANT_B.id, opts.seed, ownerOf, ['request.succeeded']),
  ];
  // Started again on the same port after every crash.
  const herald = new Herald(await restartablePort(), dataDir, ledger.url, opts.verbose);
  const broken: string[] = [];
  let exitCode = 1;
  try {
    await herald.start();
    for (const receiver of receivers) {
      const merchant = receiver.merchantId === MERCHANT_A.id ? MERCHANT_A : MERCHANT_B;
      const created = await herald.call('POST', '/v1/webhooks', merchant.key, JSON.stringify({ url: receiver.url, ...(receiver.eventTypes ? { eventTypes: receiver.eventTypes } : {}) }));
      if (created.status !== 201) throw new Error(`Registering a receiver failed: ${created.status} ${JSON.stringify(created.body)}`);
      receiver.secret = created.body!.secret;
    }

    // Faults at seeded points of the submission stream, by how many operations have been submitted.
    const crashAt = Array.from({ length: opts.crashes }, (_, i) => Math.floor(((i + 0.5 + (draw(opts.seed, 'crash', i) - 0.5) * 0.6) / opts.crashes) * 0.8 * opts.requests));
    const refuseAt = [0.3, 0.6].map((share, i) => Math.floor((share + draw(opts.seed, 'refuse', i) * 0.1) * opts.requests));
    const downAt = receivers.map((_, i) => Math.floor(draw(opts.seed, 'down', i) * 0.8 * opts.requests));
    const redriveAt = Math.max(1, Math.floor((0.5 + draw(opts.seed, 'redrive', 0) * 0.1) * opts.requests));
    let submitted = 0;
    let crashes = 0;
    // The faults run one after another; the first that fails (a restart that never became ready)
    // ends the run through the `await faultChain` below, and stops the clients at once.
    let faultChain: Promise<unknown> = Promise.resolve();
    let faultFailed: Error | undefined;
    const queueFault = (fault: () => Promise<unknown>) => {
      faultChain = faultChain.then(fault);
      faultChain.catch((error: Error) => (faultFailed ??= error));
    };
    const onSubmitted = () => {
      submitted++;
      while (crashes < crashAt.length && submitted >= crashAt[crashes]!) {
        crashes++;
        const pause = 200 + Math.floor(draw(opts.seed, 'pause', crashes) * 1_500);
        queueFault(async () => {
          log(`SIGKILL ${crashes} after ${submitted} submissions`);
          await herald.crash();
          await sleep(pause);
          await herald.start();
          log(`restarted: ${herald.process?.lines.find((line) => line.startsWith('Recovered at start')) ?? ''}`);
        });
      }
      refuseAt.forEach((at, i) => {
        if (submitted === at) {
          queueFault(async () =>
            herald.up ? herald.call('POST', '/local/faults', MERCHANT_A.key, JSON.stringify({ refuseRequestSendsMs: 3_000 }), { origin: herald.url }).then(() => log(`queue refusing sends (${i + 1})`)) : undefined,
          );
        }
      });
      receivers.forEach((receiver, i) => {
        if (submitted === downAt[i]) {
          void receiver.down(2_000 + Math.floor(draw(opts.seed, 'downtime', i) * 3_000)).catch((error: Error) => broken.push(`receiver ${i} did not come back up: ${error.message}`));
        }
      });
      if (submitted === redriveAt) queueFault(async () => (herald.up ? redriveWhileFailing(herald.port, 1, broken, log) : undefined));
    };

    // Clients: each takes the next operation, submits until Herald answers 202 (a refused or
    // unreachable submit is retried with the same key), and now and then replays it.
    let next = 0;
    const replays: Operation[] = [];
    const submit = async (operation: Operation): Promise<string> => {
      for (let attempt = 1; attempt <= 200; attempt++) {
        if (faultFailed) throw faultFailed;
        try {
          if (!herald.up) throw new Error('down');
          const answer = await herald.call('POST', '/v1/requests', operation.merchant.key, operation.body, { 'idempotency-key': operation.key });
          if (answer.status === 202) return answer.body!.id as string;
          // 409: the key is still being stored; 429: the merchant's quota of requests in flight is full for now.
          if (answer.status < 500 && answer.status !== 409 && answer.status !== 429) throw new Error(`Submit refused with ${answer.status}: ${JSON.stringify(answer.body)}`);
        } catch (error) {
          if ((error as Error).message.startsWith('Submit refused')) throw error;
        }
        await sleep(250 + Math.floor(Math.random() * 500));
      }
      throw new Error(`Operation ${operation.key} was never accepted`);
    };
    const client = async () => {
      while (next < operations.length) {
        const operation = operations[next++]!;
        const id = await submit(operation);
        operation.requestId = id;
        byRequest.set(id, operation);
        onSubmitted();
        if (draw(opts.seed, 'replay', operation.index) < 0.1) replays.push(operation);
        // A replay from this or another client, a little later.
        const replay = replays.shift();
        if (replay && draw(opts.seed, 'replay-now', operation.index) < 0.5) {
          const again = await submit(replay);
          if (again !== replay.requestId) replay.otherIds.add(again);
        } else if (replay) {
          replays.push(replay);
        }
      }
    };
    await Promise.all(Array.from({ length: opts.clients }, client));
    for (const replay of replays) {
      const again = await submit(replay);
      if (again !== replay.requestId) replay.otherIds.add(again);
    }
    await faultChain;
    log(`all ${operations.length} submitted; ${crashes} crashes; settling`);

    // Settle: wait for every request to end and every event to reach every endpoint that takes
    // it; halfway through the wait, one redrive pass of both dead-letter queues.
    const deadline = Date.now() + opts.settleSeconds * 1000;
    let redriven = false;
    let redrivenWhileFailing = false;
    let statuses = new Map<string, string>();
    for (;;) {
      statuses = await statusesOf(herald, operations);
      const unfinished = operations.filter((op) => !isTerminal(statuses.get(op.requestId!)));
      const missing = undeliveredOf(operations, statuses, receivers);
      if (unfinished.length === 0 && missing.length === 0) break;
      if (Date.now() > deadline) break;
      // The second redrive fault: as soon as a request that ran out of attempts is dead-lettered.
      if (!redrivenWhileFailing && herald.up && ((await deadLetterDepths(herald)).requests ?? 0) > 0) {
        redrivenWhileFailing = true;
        await redriveWhileFailing(herald.port, 2, broken, log);
        continue;
      }
      if (!redriven && Date.now() > deadline - (opts.settleSeconds * 1000) / 2) {
        redriven = true;
        log(`redrive pass: ${unfinished.length} unfinished, ${missing.length} undelivered`);
        const depths = await deadLetterDepths(herald);
        for (const [queue, depth] of Object.entries(depths)) if (depth > 0) await redrive(herald.port, queue, depth);
      }
      await sleep(2_000);
    }

    // The invariants.
    const lost = operations.filter((op) => !isTerminal(statuses.get(op.requestId!)));
    const doubleActs = [...ledger.effects.values()].filter((effect) => effect.count > 1);
    const requestsPerOperation = new Map<string, Set<string>>();
    for (const effect of ledger.effects.values()) {
      const ids = requestsPerOperation.get(effect.operation) ?? new Set();
      ids.add(effect.requestId);
      requestsPerOperation.set(effect.operation, ids);
    }
    const doubleOperations = operations.filter((op) => op.otherIds.size > 0 || (requestsPerOperation.get(op.key)?.size ?? 0) > 1);
    const missingEffects = operations.filter(
      (op) => statuses.get(op.requestId!) === 'succeeded' && Array.from({ length: op.steps }, (_, i) => ledger.effects.has(`${op.requestId}/${i + 1}`)).includes(false),
    );
    const undelivered = undeliveredOf(operations, statuses, receivers);
    const idsPerEvent = new Map<string, Set<string>>();
    let duplicates = 0;
    for (const receiver of receivers) {
      const seen = new Set<string>();
      for (const receipt of receiver.accepted) {
        if (seen.has(receipt.webhookId)) duplicates++;
        seen.add(receipt.webhookId);
        const event = `${receiver.index}/${receipt.requestId}/${receipt.eventType}`;
        idsPerEvent.set(event, (idsPerEvent.get(event) ?? new Set()).add(receipt.webhookId));
      }
    }
    const unstableIds = [...idsPerEvent.values()].filter((ids) => ids.size > 1).length;
    const badSignatures = receivers.reduce((sum, r) => sum + r.badSignatures, 0);
    const crossTenant = receivers.reduce((sum, r) => sum + r.crossTenant, 0);
    const dlq = await deadLetters(herald);

    if (lost.length) broken.push(`not terminal: ${lost.slice(0, 10).map((op) => `${op.requestId} (${statuses.get(op.requestId!) ?? 'unknown'})`).join(', ')}`);
    if (doubleActs.length) broken.push(`effects acted more than once: ${doubleActs.slice(0, 10).map((e) => `${e.requestId}/${e.step} ×${e.count}`).join(', ')}`);
    if (doubleOperations.length) broken.push(`operations with more than one request: ${doubleOperations.slice(0, 10).map((op) => op.key).join(', ')}`);
    if (missingEffects.length) broken.push(`succeeded without all their effects: ${missingEffects.slice(0, 10).map((op) => op.requestId).join(', ')}`);
    if (undelivered.length) broken.push(`events not delivered: ${undelivered.slice(0, 10).join(', ')}`);
    if (unstableIds) broken.push(`${unstableIds} events reached one endpoint under more than one webhook-id`);
    if (badSignatures) broken.push(`${badSignatures} webhooks with a signature that does not verify`);
    if (crossTenant) broken.push(`${crossTenant} webhooks reached another merchant's receiver`);
    if (crashes < 3) broken.push(`only ${crashes} crashes happened`);

    console.log(
      `requests=${operations.length} lost=${lost.length} double_effects=${doubleActs.length + doubleOperations.length} ` +
        `undelivered=${undelivered.length} duplicates=${duplicates} dlq=${dlq} elapsed=${Math.round((Date.now() - started) / 1000)}s`,
    );
    if (opts.verbose) {
      const count = (status: string) => operations.filter((op) => statuses.get(op.requestId!) === status).length;
      console.error(
        `chaos: succeeded=${count('succeeded')} failed=${count('failed')} crashes=${crashes} redriven=${redriven} ` +
          `receiver_misbehaviours=${receivers.reduce((sum, r) => sum + r.misbehaved, 0)} effects=${ledger.effects.size}`,
      );
    }
    exitCode = broken.length ? 1 : 0;
  } catch (error) {
    broken.push(`the run itself failed: ${(error as Error).stack ?? String(error)}`);
  } finally {
    for (const line of broken) console.error(`chaos: invariant broken: ${line}`);
    await herald.stop().catch(() => undefined);
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await ledger.close();
    if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
  process.exit(exitCode);
}

const isTerminal = (status: string | undefined) => status === 'succeeded' || status === 'failed' || status === 'cancelled';

async function statusesOf(herald: Herald, operations: readonly Operation[]): Promise<Map<string, string>> {
  const statuses = new Map<string, string>();
  if (!herald.up) return statuses;
  const queue = [...operations];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let op = queue.shift(); op; op = queue.shift()) {
        try {
          const answer = await herald.call('GET', `/v1/requests/${op.requestId}`, op.merchant.key);
          if (answer.status === 200) statuses.set(op.requestId!, answer.body!.status as string);
        } catch {
          // Counted as unknown this round.
        }
      }
    }),
  );
  return statuses;
}

/** (request, event, receiver) triples that a finished request owes and no receiver accepted. */
function undeliveredOf(operations: readonly Operation[], statuses: Map<string, string>, receivers: readonly Receiver[]): string[] {
  const accepted = new Set(receivers.flatMap((receiver) => receiver.accepted.map((r) => `${receiver.index}/${r.requestId}/${r.eventType}`)));
  const missing: string[] = [];
  for (const op of operations) {
    const status = statuses.get(op.requestId!);
    if (status !== 'succeeded' && status !== 'failed') continue;
    const eventType = `request.${status}`;
    for (const receiver of receivers) {
      if (receiver.merchantId !== op.merchant.id) continue;
      if (receiver.eventTypes && !receiver.eventTypes.includes(eventType)) continue;
      const triple = `${receiver.index}/${op.requestId}/${eventType}`;
      if (!accepted.has(triple)) missing.push(triple);
    }
  }
  return missing;
}

interface RedriveRun {
  /** False when the command had to be killed: it did not end by itself. */
  readonly ended: boolean;
  /** The command's `--json` report. */
  readonly report?: { readonly waiting: number; readonly moved: number; readonly cameBack?: number };
}

/**
 * The operator's own command, `herald redrive <queue> … --json`, against the runtime, given at
 * most three minutes: a few seconds' work, but starting the CLI alone takes tens of seconds on a
 * loaded machine, and a redrive that loops runs for ever.
 */
async function redrive(port: number, queue: string, max?: number): Promise<RedriveRun> {
  return new Promise<RedriveRun>((resolveRun) => {
    const args = ['bin/herald-cli.ts', 'redrive', queue, ...(max !== undefined ? ['--max', String(max)] : []), '--json', '--local', '--port', String(port)];
    const child = spawn(join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    let output = '';
    let killed = false;
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, 180_000);
    child.on('exit', () => {
      clearTimeout(timer);
      let report: RedriveRun['report'];
      try {
        report = JSON.parse(output) as RedriveRun['report'];
      } catch {
        // No report: the command failed (e.g. the runtime went down under it).
      }
      resolveRun({ ended: !killed, ...(report ? { report } : {}) });
    });
    child.on('error', () => resolveRun({ ended: true }));
  });
}

/**
 * The fault: both dead-letter queues redriven whole, as an operator would, while requests that
 * ran out of attempts keep failing. Each run must end by itself, having moved no more than it
 * found; the reopened requests fail again and wait in the DLQ, which the final checks allow.
 */
async function redriveWhileFailing(port: number, pass: number, broken: string[], log: (line: string) => void): Promise<void> {
  for (const queue of ['requests', 'deliveries']) {
    const run = await redrive(port, queue);
    if (!run.ended) broken.push(`redrive ${pass} of ${queue} did not end by itself within three minutes`);
    else if (run.report && run.report.moved > run.report.waiting) broken.push(`redrive ${pass} of ${queue} moved ${run.report.moved} of ${run.report.waiting} waiting`);
    log(`redrive ${pass} of ${queue} while failing: ${run.report ? `moved ${run.report.moved} of ${run.report.waiting}, ${run.report.cameBack ?? 0} came back` : 'no report'}`);
  }
}

async function deadLetters(herald: Herald): Promise<number> {
  return Object.values(await deadLetterDepths(herald)).reduce((sum, depth) => sum + depth, 0);
}

async function deadLetterDepths(herald: Herald): Promise<Record<string, number>> {
  const answer = await fetch(`${herald.url}/local/endpoints`);
  const description = (await answer.json()) as { endpoints: LocalEndpoints; resources: ProvisionedResources };
  const sqs = new SQSClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: description.endpoints.sqs });
  try {
    const depths: Record<string, number> = {};
    for (const [name, queue] of Object.entries(description.resources.queues)) {
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queue.deadLetterUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      );
      depths[name] = Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
    }
    return depths;
  } finally {
    sqs.destroy();
  }
}

void main();
