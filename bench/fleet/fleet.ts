import { EndpointCircuits } from '../../lambdas/core/webhooks/circuit-breaker';
import { deliverWebhook, type DeliverDependencies } from '../../lambdas/core/webhooks/deliver-webhook';
import { type PostResult, type WebhookTransport } from '../../lambdas/core/webhooks/webhook-attempt';
import { WebhookFanOut } from '../../lambdas/core/webhooks/fan-out-webhooks';
import type { RequestMessage, RequestQueue } from '../../lambdas/core/requests/ports';
import { processRequest, type ProcessDependencies } from '../../lambdas/core/requests/process-request';
import { SlowLaneRouter } from '../../lambdas/core/requests/slow-lane';
import type { Processor } from '../../lambdas/core/requests/processor';
import { isTerminal } from '../../lambdas/core/requests/request';
import * as z from '../../lambdas/core/shared/schema';
import { submitRequest, type SubmitDependencies } from '../../lambdas/core/requests/submit-request';
import { sweepPendingDeliveries } from '../../lambdas/core/webhooks/sweep-pending-deliveries';
import { sweepStuckRequests } from '../../lambdas/core/requests/sweep-stuck-requests';
import type { DeliveryQueue } from '../../lambdas/core/webhooks/ports';
import { deliveryIdOf } from '../../lambdas/core/webhooks/delivery';
import { generateSigningSecret } from '../../lambdas/core/webhooks/endpoint';
import { type DeliveryMessage } from '../../lambdas/core/webhooks/delivery-message';
import { FAIR_QUEUE_RULE } from '../../lib/local/fair-queue';
import { defaults } from '../../lambdas/settings/requests';
import { queueRetrySchedule } from '../../lambdas/settings/retry';
import { queues, schedules } from '../../lib/topology';
import { webhookDefaults } from '../../lambdas/settings/webhooks';
import { InMemoryRedriveLog, InMemoryRequestStore } from '../../test/support/core/requests/in-memory-ports';
import { InMemoryDeliveryStore, InMemoryWebhookEndpointStore, RecordingMerchantNotifier, endpointHealthOver } from '../../test/support/core/webhooks/in-memory-ports';
import { LatencyTrace } from './latency-trace';
import { inlineFirstAttempt } from './inline-first-attempt';
import { SimEventSource, type RecordVerdict } from './lambda-model';
import { SimQueue, type SimMessage } from './sqs-model';
import { logNormal, seededRandom, VirtualClock } from './virtual-time';

/** The fleet and its traffic, at full size; `scale` shrinks rates, bursts and worker pools alike. */
export const FLEET = {
  merchants: 200,
  maxEndpointsPerMerchant: 20,
  requestsPerSecond: 2_000,
  trafficSeconds: 600,
  /** The largest merchant: one endpoint, this share of all requests, so that endpoint gets about 10 % of all deliveries. */
  bigMerchantShare: 0.2,
  /** Processing time of an ordinary request: log-normal, median and shape. */
  processingMedianMs: 100,
  processingSigma: 0.5,
  /** AWS calls around the work, per record (claim, finish, fan-out; or read, sign, record). */
  processCallsMs: 30,
  deliverCallsMs: 15,
  /** Lambda's own cost per invocation (the event source's hand-over). */
  invocationOverheadMs: 10,
  /** Each endpoint's median answer time is drawn uniformly from this range; answers are log-normal around it. */
  receiverMedianMs: [50, 400] as const,
  receiverSigma: 0.6,
  /** The share of attempts a healthy receiver answers 500. */
  receiverErrorRate: 0.005,
  /** noisy-endpoint: the big merchant's endpoint hangs from this second for this long. */
  hang: { startSeconds: 180, durationSeconds: 240 },
  /** noisy-merchant: this many slow requests from one ordinary merchant, spread over this many seconds. */
  burst: { requests: 100_000, startSeconds: 120, overSeconds: 30, processingMs: 2_000 },
  /** Worker pools the stack would set for 2,000 requests/s (docs/scale.md sizes them). */
  processConcurrency: 100,
  deliverConcurrency: 600,
  /** The requests queue's slow lane: its own pool beside the process workers, a quarter of theirs (docs/scale.md). */
  slowLaneConcurrency: 25,
  /** Simulated time allowed after the traffic for the queues to drain (retries wait up to 30 min). */
  drainSeconds: 4 * 3600,
} as const;

export type ScenarioName = 'baseline' | 'noisy-endpoint' | 'noisy-merchant';
export const SCENARIOS: readonly ScenarioName[] = ['baseline', 'noisy-endpoint', 'noisy-merchant'];

export interface RunOptions {
  readonly scenario: ScenarioName;
  readonly seed: number;
  /** Fair queues (message groups) on both queues. */
  readonly fairness: boolean;
  /** The per-endpoint circuit breaker in the deliverers. */
  readonly breaker: boolean;
  /** The requests queue's slow lane: process workers hand merchants' slow requests to their own pool. */
  readonly slowLane: boolean;
  /** Whether the scenario's fault happens (off: the same run as its baseline). */
  readonly fault: boolean;
  readonly scale: number;
  readonly trafficSeconds?: number;
  /** The process worker makes each delivery's first attempt itself within this budget (bench/fleet/inline-first-attempt.ts). */
  readonly inlineFirstAttemptMs?: number;
}

export interface RunResult {
  readonly requests: number;
  readonly lost: number;
  readonly duplicates: number;
  /** Seconds from submit to a healthy endpoint's 2xx, per delivery. */
  readonly healthyLatencies: Float64Array;
  readonly workerSecondsOnBad: number;
  readonly deadLettered: number;
  readonly simulatedSeconds: number;
  /** Where the slowest 1 % of healthy deliveries spent their time (printed with `--trace`). */
  readonly slowestHealthy: string;
}

interface Endpoint {
  readonly id: string;
  readonly merchantId: string;
  readonly url: string;
  readonly medianMs: number;
}

const SIM_TYPE = 'sim.work';

/** Runs one scenario in virtual time and reports what the merchants' endpoints saw. */
export async function runFleet(options: RunOptions): Promise<RunResult> {
  const random = seededRandom(options.seed);
  const clock = new VirtualClock();
  const now = () => clock.date();
  const trafficSeconds = options.trafficSeconds ?? FLEET.trafficSeconds;

  // --- the fleet: merchants, endpoints, receivers -------------------------------------------
  const endpointStore = new InMemoryWebhookEndpointStore();
  const endpoints: Endpoint[] = [];
  const endpointByUrl = new Map<string, Endpoint>();
  const merchantIds = Array.from({ length: FLEET.merchants }, (_, i) => `mer_${String(i).padStart(3, '0')}`);
  const bigMerchant = merchantIds[0]!;
  const noisyMerchant = merchantIds[1]!;
  for (const merchantId of merchantIds) {
    const count = merchantId === bigMerchant ? 1 : endpointCount(random);
    for (let i = 0; i < count; i++) {
      const id = `ep_${merchantId.slice(4)}_${i}`;
      const at = now().toISOString();
      const endpoint: Endpoint = {
        id,
        merchantId,
        url: `https://${id}.receiver.example/hooks`,
        medianMs: FLEET.receiverMedianMs[0] + random() * (FLEET.receiverMedianMs[1] - FLEET.receiverMedianMs[0]),
      };
      endpoints.push(endpoint);
      endpointByUrl.set(endpoint.url, endpoint);
      await endpointStore.create(
        { id, merchantId, url: endpoint.url, status: 'enabled', secret: { secret: generateSigningSecret(), createdAt: at }, version: 1, createdAt: at, updatedAt: at },
        webhookDefaults.maxEndpointsPerMerchant,
      );
    }
  }
  const badEndpoint = endpoints[0]!.id;
  const isNoisy = (merchantId: string, endpointId: string) =>
    (options.scenario === 'noisy-endpoint' && endpointId === badEndpoint) || (options.scenario === 'noisy-merchant' && merchantId === noisyMerchant);

  const hangFrom = FLEET.hang.startSeconds * 1000;
  const hangUntil = hangFrom + FLEET.hang.durationSeconds * 1000;
  const acknowledged = new Set<string>();
  let duplicates = 0;
  const submittedAt = new Map<string, number>();
  const latencies: number[] = [];
  const trace = new LatencyTrace();

  const transport: WebhookTransport = {
    async post(url, headers, _body, postOptions = {}): Promise<PostResult> {
      const endpoint = endpointByUrl.get(url)!;
      const timeoutMs = Math.min(webhookDefaults.attemptTimeoutMs, postOptions.timeoutMs ?? Number.POSITIVE_INFINITY);
      const hanging = options.fault && options.scenario === 'noisy-endpoint' && endpoint.id === badEndpoint && clock.now >= hangFrom && clock.now < hangUntil;
      const latencyMs = hanging ? timeoutMs : Math.min(logNormal(random, endpoint.medianMs, FLEET.receiverSigma), timeoutMs);
      await clock.sleep(latencyMs);
      if (latencyMs >= timeoutMs) return { error: 'timeout', errorMessage: `no answer within ${timeoutMs} ms`, latencyMs };
      if (random() < FLEET.receiverErrorRate) return { status: 500, latencyMs };
      const webhookId = headers['webhook-id']!;
      if (acknowledged.has(webhookId)) duplicates++;
      acknowledged.add(webhookId);
      const subject = webhookId.slice(4, webhookId.indexOf('.'));
      const submitted = submittedAt.get(subject);
      if (submitted !== undefined && !isNoisy(endpoint.merchantId, endpoint.id)) {
        latencies.push((clock.now - submitted) / 1000);
        trace.answered(subject, webhookId, submitted, clock.now, latencyMs);
      }
      return { status: 200, latencyMs };
    },
  };

  // --- the queues and their adapters ---------------------------------------------------------
  const requestSpec = queues.requests;
  const deliverySpec = queues.deliveries;
  const requestQueue = new SimQueue<RequestMessage>(clock, {
    visibilityTimeoutSeconds: requestSpec.visibilityTimeoutSeconds,
    maxReceiveCount: requestSpec.retry.maxAttempts,
    fair: options.fairness,
    minInFlight: FAIR_QUEUE_RULE.minInFlight * options.scale,
  });
  const deliveryQueue = new SimQueue<DeliveryMessage>(clock, {
    visibilityTimeoutSeconds: deliverySpec.visibilityTimeoutSeconds,
    maxReceiveCount: deliverySpec.retry.maxAttempts,
    fair: options.fairness,
    minInFlight: FAIR_QUEUE_RULE.minInFlight * options.scale,
  });
  const slowLaneQueue = new SimQueue<RequestMessage>(clock, {
    visibilityTimeoutSeconds: requestSpec.visibilityTimeoutSeconds,
    maxReceiveCount: requestSpec.retry.maxAttempts,
    fair: options.fairness,
    minInFlight: FAIR_QUEUE_RULE.minInFlight * options.scale,
  });
  const inFlightRequests = new Map<string, SimMessage<RequestMessage>>();
  const inFlightSlowLane = new Map<string, SimMessage<RequestMessage>>();
  const inFlightDeliveries = new Map<string, SimMessage<DeliveryMessage>>();
  const requestPort: RequestQueue = {
    async enqueue(message) {
      requestQueue.send(message, message.merchantId);
    },
    async delayRedelivery(receiptHandle, seconds) {
      const message = inFlightRequests.get(receiptHandle);
      if (message) requestQueue.changeVisibility(message, seconds);
    },
  };
  const slowLanePort: RequestQueue = {
    async enqueue(message) {
      slowLaneQueue.send(message, message.merchantId);
    },
    async delayRedelivery(receiptHandle, seconds) {
      const message = inFlightSlowLane.get(receiptHandle);
      if (message) slowLaneQueue.changeVisibility(message, seconds);
    },
  };
  const deliveryPort: DeliveryQueue = {
    async send(messages, sendOptions = {}) {
      for (const message of messages) deliveryQueue.send(message, message.endpointId, sendOptions.delaySeconds ?? 0);
    },
    async delayRedelivery(receiptHandle, seconds) {
      const message = inFlightDeliveries.get(receiptHandle);
      if (message) deliveryQueue.changeVisibility(message, seconds);
    },
  };

  // --- Herald's use cases over the in-memory ports -------------------------------------------
  const store = new InMemoryRequestStore({ now });
  const deliveries = new InMemoryDeliveryStore();
  const redrives = new InMemoryRedriveLog();
  const work: Processor<{ ms: number }, { done: boolean }> = {
    type: SIM_TYPE,
    timeoutMs: 30_000,
    schema: z.strictObject({ ms: z.number() }),
    async run({ ms }) {
      await clock.sleep(ms);
      return { done: true };
    },
  };
  const processorFor = (type: string) => (type === SIM_TYPE ? (work as Processor<any, unknown>) : undefined);
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const submitDeps: SubmitDependencies = {
    store,
    queue: requestPort,
    processorFor,
    knownTypes: () => [SIM_TYPE],
    requestIdKey: 'fleet-simulation',
    // The simulated fleet serves no status page: the link is only a path.
    statusUrlOf: async (id) => `/v1/status/${id}`,
    smsCountries: new Set<string>(),
    now,
  };
  const processDeps: ProcessDependencies = {
    store,
    queue: requestPort,
    events: new WebhookFanOut({ endpoints: endpointStore, queue: deliveryPort }),
    redrives,
    queueName: 'requests',
    processorFor,
    services: { get wallets(): never { throw new Error('no wallets in the simulation'); } },
    retry: queueRetrySchedule('requests'),
    maxReceiveCount: requestSpec.retry.maxAttempts,
    retryScale: 1,
    remainingTimeMs: () => 60_000,
    logger: quiet,
    random,
    now,
  };
  const deliverySchedule = queueRetrySchedule('deliveries');
  const deliverDeps: Omit<DeliverDependencies, 'circuits'> = {
    endpoints: endpointStore,
    deliveries,
    queue: deliveryPort,
    transport,
    firstAttemptTimeoutMs: webhookDefaults.firstAttemptTimeoutMs,
    health: endpointHealthOver({ endpoints: endpointStore, deliveries, notifier: new RecordingMerchantNotifier(), deadStreakLimit: webhookDefaults.deadStreakLimit, failingDaysLimit: webhookDefaults.failingDaysLimit }),
    loadRequest: (id) => store.get(id),
    userAgent: 'Herald-Fleet-Simulation',
    schedule: deliverySchedule,
    maxAttempts: deliverySchedule.maxAttempts,
    retryScale: 1,
    log: () => undefined,
    random,
    now,
    redrives,
    queueName: 'deliveries',
  };
  const circuitsOf = perInstance(() => new EndpointCircuits({ ...webhookDefaults.circuitBreaker, probeTimeoutSeconds: webhookDefaults.attemptTimeoutMs / 1000 }));

  // --- the event sources ---------------------------------------------------------------------
  const scaled = (n: number) => Math.max(Math.round(n * options.scale), 1);
  let workerMsOnBad = 0;
  // With the first attempt inline, each process instance posts with circuits of its own.
  const inlineFirstAttemptMs = options.inlineFirstAttemptMs;
  const processCircuitsOf = perInstance(() => new EndpointCircuits({ ...webhookDefaults.circuitBreaker, probeTimeoutSeconds: (inlineFirstAttemptMs ?? 0) / 1000 }));
  const processDepsOf = (instance: number): ProcessDependencies => {
    if (options.inlineFirstAttemptMs === undefined) return processDeps;
    const circuits = processCircuitsOf(instance);
    const deliver = { ...deliverDeps, ...(options.breaker ? { circuits } : {}) };
    const queue = inlineFirstAttempt(deliver, deliveryPort, {
      budgetMs: options.inlineFirstAttemptMs,
      callsMs: FLEET.deliverCallsMs,
      sleep: (ms) => clock.sleep(ms),
      onAttempt: (ms, message) => {
        if (options.scenario === 'noisy-endpoint' && message.endpointId === badEndpoint) workerMsOnBad += ms;
      },
    });
    return { ...processDeps, events: new WebhookFanOut({ endpoints: endpointStore, queue }) };
  };
  const routerOf = perInstance(() => new SlowLaneRouter(defaults.slowLane));
  // One process function behind two event sources, as on AWS: the lane decides the queue a retry's visibility change goes to.
  const processFrom = (lane: 'main' | 'slow') => {
    const inFlight = lane === 'main' ? inFlightRequests : inFlightSlowLane;
    return async (message: SimMessage<RequestMessage>, { instance }: { instance: number }): Promise<RecordVerdict> => {
      const deps: ProcessDependencies = { ...processDepsOf(instance), queue: lane === 'main' ? requestPort : slowLanePort };
      const handle = String(message.id);
      inFlight.set(handle, message);
      try {
        const router = routerOf(instance);
        if (options.slowLane && lane === 'main' && router.isSlow(message.body, clock.date())) {
          await clock.sleep(FLEET.processCallsMs / 3);
          await slowLanePort.enqueue(message.body);
          return 'done';
        }
        trace.requestReceived(message.body.requestId, clock.now);
        const started = clock.now;
        await clock.sleep(FLEET.processCallsMs);
        const outcome = await processRequest(deps, { requestId: message.body.requestId, type: message.body.type, receiveCount: message.receiveCount, receiptHandle: handle });
        router.record(message.body, clock.now - started, clock.date());
        trace.requestFinished(message.body.requestId, clock.now);
        return outcome.kind === 'retry' || outcome.kind === 'exhausted' ? 'redeliver' : 'done';
      } finally {
        inFlight.delete(handle);
      }
    };
  };
  const onProcessTime = (message: SimMessage<RequestMessage>, ms: number) => {
    if (options.scenario === 'noisy-merchant' && message.body.merchantId === noisyMerchant) workerMsOnBad += ms;
  };
  new SimEventSource(
    clock,
    requestQueue,
    { batchSize: requestSpec.batchSize, maxConcurrency: scaled(FLEET.processConcurrency), invocationOverheadMs: FLEET.invocationOverheadMs },
    processFrom('main'),
    onProcessTime,
  );
  new SimEventSource(
    clock,
    slowLaneQueue,
    { batchSize: requestSpec.batchSize, maxConcurrency: scaled(FLEET.slowLaneConcurrency), invocationOverheadMs: FLEET.invocationOverheadMs },
    processFrom('slow'),
    onProcessTime,
  );
  new SimEventSource(
    clock,
    deliveryQueue,
    { batchSize: deliverySpec.batchSize, maxConcurrency: scaled(FLEET.deliverConcurrency), invocationOverheadMs: FLEET.invocationOverheadMs },
    async (message, { instance }): Promise<RecordVerdict> => {
      const handle = String(message.id);
      inFlightDeliveries.set(handle, message);
      try {
        trace.deliveryReceived(message.body.deliveryId, clock.now);
        await clock.sleep(FLEET.deliverCallsMs);
        const outcome = await deliverWebhook(
          { ...deliverDeps, ...(options.breaker ? { circuits: circuitsOf(instance) } : {}) },
          { message: message.body, receiveCount: message.receiveCount, receiptHandle: handle, receivedAt: new Date(clock.date().getTime()) },
        );
        return outcome.kind === 'retry' || outcome.kind === 'dead' || outcome.kind === 'toDeadLetters' ? 'redeliver' : 'done';
      } finally {
        inFlightDeliveries.delete(handle);
      }
    },
    (message, ms) => {
      if (options.scenario === 'noisy-endpoint' && message.body.endpointId === badEndpoint) workerMsOnBad += ms;
    },
  );

  // --- traffic -------------------------------------------------------------------------------
  let submitted = 0;
  const submit = (merchantId: string, ms: number) => {
    const key = `k${++submitted}`;
    const at = clock.now;
    void submitRequest(submitDeps, { merchantId, idempotencyKey: key, body: { type: SIM_TYPE, payload: { ms } } }).then((accepted) => {
      submittedAt.set(accepted.id, at);
    });
  };
  const rate = FLEET.requestsPerSecond * options.scale;
  const ordinary = merchantIds.slice(1);
  let next = 0;
  const arrival = () => {
    if (clock.now >= trafficSeconds * 1000) return;
    const merchantId = random() < FLEET.bigMerchantShare ? bigMerchant : ordinary[Math.floor(random() * ordinary.length)]!;
    submit(merchantId, logNormal(random, FLEET.processingMedianMs, FLEET.processingSigma));
    next += -Math.log(1 - random()) * (1000 / rate);
    clock.schedule(next, arrival);
  };
  clock.schedule(0, arrival);
  if (options.fault && options.scenario === 'noisy-merchant') {
    const count = scaled(FLEET.burst.requests);
    for (let i = 0; i < count; i++) {
      clock.schedule(FLEET.burst.startSeconds * 1000 + (i * FLEET.burst.overSeconds * 1000) / count, () => submit(noisyMerchant, FLEET.burst.processingMs));
    }
  }

  // --- the sweepers, on their schedules ------------------------------------------------------
  const every = (minutes: number, run: () => Promise<unknown>) => {
    const tick = () => {
      void run();
      if (clock.now < (trafficSeconds + FLEET.drainSeconds) * 1000) clock.schedule(clock.now + minutes * 60_000, tick);
    };
    clock.schedule(minutes * 60_000, tick);
  };
  every(schedules.sweep!.everyMinutes, () =>
    sweepStuckRequests(
      { store, queue: requestPort, log: () => undefined, now },
      { unenqueuedAfterSeconds: defaults.sweepUnenqueuedAfterSeconds, staleEnqueueAfterSeconds: defaults.sweepStaleEnqueueAfterSeconds, batchLimit: defaults.sweepBatchLimit },
    ),
  );
  every(schedules.sweepDeliveries!.everyMinutes, () =>
    sweepPendingDeliveries({ deliveries, queue: deliveryPort, log: () => undefined, now }, { graceSeconds: webhookDefaults.sweepGraceSeconds, limit: webhookDefaults.sweepBatchLimit }),
  );

  const drained = () =>
    clock.now >= trafficSeconds * 1000 && requestQueue.outstanding === 0 && slowLaneQueue.outstanding === 0 && deliveryQueue.outstanding === 0;
  await clock.run((trafficSeconds + FLEET.drainSeconds) * 1000, drained);

  // --- what became of everything -------------------------------------------------------------
  let lost = 0;
  let deadLettered = 0;
  const deadLetteredIds = new Set(deliveryQueue.deadLetters.map((m) => m.body.deliveryId));
  const endpointsOf = new Map<string, Endpoint[]>();
  for (const endpoint of endpoints) endpointsOf.set(endpoint.merchantId, [...(endpointsOf.get(endpoint.merchantId) ?? []), endpoint]);
  for (const id of store.ids()) {
    const request = (await store.get(id))!;
    if (!isTerminal(request.status)) {
      lost++;
      continue;
    }
    const type = request.status === 'succeeded' ? 'request.succeeded' : 'request.failed';
    for (const endpoint of endpointsOf.get(request.merchantId) ?? []) {
      const deliveryId = deliveryIdOf(request.id, endpoint.id, type);
      if (acknowledged.has(deliveryId)) continue;
      if (deadLetteredIds.has(deliveryId)) deadLettered++;
      else lost++;
    }
  }
  return {
    requests: store.size,
    lost,
    duplicates,
    healthyLatencies: Float64Array.from(latencies),
    workerSecondsOnBad: workerMsOnBad / 1000,
    deadLettered,
    simulatedSeconds: clock.now / 1000,
    slowestHealthy: trace.summary(),
  };
}

/** Endpoints per merchant, 1 to 20, most merchants with few: P(k) ∝ 1/k² (mean about 2.3). */
function endpointCount(random: () => number): number {
  const weights = Array.from({ length: FLEET.maxEndpointsPerMerchant }, (_, i) => 1 / (i + 1) ** 2);
  const total = weights.reduce((a, b) => a + b, 0);
  let draw = random() * total;
  for (let k = 0; k < weights.length; k++) {
    draw -= weights[k]!;
    if (draw <= 0) return k + 1;
  }
  return weights.length;
}

/** The q-quantile (0..1) of a sample, by the nearest rank. */
export function quantile(sample: Float64Array, q: number): number {
  if (sample.length === 0) return Number.NaN;
  const sorted = Float64Array.from(sample).sort();
  return sorted[Math.min(Math.ceil(q * sorted.length) - 1, sorted.length - 1)]!;
}

/** State each simulated function instance keeps in its own memory (a container's module scope on AWS), made on first use. */
function perInstance<T>(make: () => T): (instance: number) => T {
  const byInstance = new Map<number, T>();
  return (instance) => {
    let found = byInstance.get(instance);
    if (found === undefined) byInstance.set(instance, (found = make()));
    return found;
  };
}
