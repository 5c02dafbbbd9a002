import { randomBytes } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { defaults } from '../../lambdas/settings/requests';
import { ENV } from '../../lambdas/settings/environment';
import { queues, type QueueSpec } from '../topology';
import { type QueueName } from '../../lambdas/settings/retry';
import { DynamoMerchantStore } from '../../lambdas/adapters/dynamo-merchant-store';
import { dynamoRequestPorts } from '../../lambdas/adapters/dynamo-request-ports';
import { DynamoDeliveryStore } from '../../lambdas/adapters/dynamo-delivery-store';
import { deliveryMessageKeyIn } from '../../lambdas/adapters/dynamo-service-secret-store';
import { SqsDeliveryQueue } from '../../lambdas/adapters/sqs-delivery-queue';
import { SqsRequestQueue } from '../../lambdas/adapters/sqs-request-queue';
import { dynamoClient, s3Client, sqsClient } from '../../lambdas/adapters/aws-clients';
import { S3RequestBodies } from '../../lambdas/adapters/s3-request-bodies';
import { enableChaos, type ChaosFaults, type ChaosOptions } from './chaos';
import { recoverAtStart, type RecoveryDependencies, type RecoveryReport } from './recovery-at-start';
import { LocalSetupError, startDynamoDbLocal } from './dynamodb-local';
import { startFauxqs } from './fauxqs';
import { HttpGateway, type LocalRoute } from './http-gateway';
import { LocalRouteGuard } from './local-route-guard';
import { MerchantRateLimiter } from './merchant-rate-limiter';
import { LocalOutbox, TopicTap } from './outbox';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  provision,
  type LocalEndpoints,
  type ProvisionedResources,
  type ResourceNames,
} from './provision';
import { LocalScheduler } from './scheduler';
import { requestEventStream } from './request-event-stream';
import { localConsole } from './console/console-server';
import { DEFAULT_STREAM_LIMITS } from '../../lambdas/core/requests/request-events';
import { parsePublicBaseUrl } from '../../lambdas/core/shared/public-base-url';
import { SqsEventSource } from './sqs-event-source';
import { localResourceNames } from '../topology';

export const DEMO_MERCHANT_ID = 'mer_local_demo';
/**
 * The demo merchant's key when none is chosen: fixed, so the README's commands work as pasted.
 * It only ever opens a runtime listening on 127.0.0.1; a deployed stack has no demo merchant.
 */
export const LOCAL_DEMO_API_KEY = 'hrld_local_demo_key_0123456789';
/** Scales every retry delay down so that demos see retries and DLQs in seconds, not hours. */
export const LOCAL_RETRY_SCALE = 0.01;
const API_KEY_PATTERN = /^[A-Za-z0-9_-]{20,}$/;
/** Read before any runtime writes the variable, so a second runtime in one process gets its own address. */
const CONFIGURED_PUBLIC_BASE_URL = process.env[ENV.publicBaseUrl] || undefined;

export interface LocalRuntimeOptions {
  /** HTTP port of the API; 0 picks a free one. */
  readonly port?: number;
  /** Keep the table on disk here across restarts; in memory when absent. */
  readonly dataDir?: string;
  /** The demo merchant's API key; `LOCAL_DEMO_API_KEY` when absent. */
  readonly apiKey?: string;
  readonly retryScale?: number;
  /**
   * Sends request emails directly, from this address, as a stack with `emailSenderIdentity` does
   * (they land in the outbox as `via: "email"`); `HERALD_EMAIL_FROM_ADDRESS` sets it for `npm start`.
   * @default through the topic, as a pending subscription
   */
  readonly emailFromAddress?: string;
  /** Reuse running endpoints instead of starting embedded ones (tests share one pair per run). */
  readonly endpoints?: LocalEndpoints;
  /** Resource names; tests pass unique ones so that runtimes sharing endpoints do not meet. */
  readonly names?: ResourceNames;
  readonly authorizerCacheTtlSeconds?: number;
  /** Hosts of receivers on this machine that webhooks may reach over plain http (local only). @default '127.0.0.1,localhost' */
  readonly localWebhookHosts?: string;
  /** The base of the links the API hands out (statusUrl); default `HERALD_PUBLIC_BASE_URL`, else the runtime's own address. */
  readonly publicBaseUrl?: string;
  /** Requests per API key per `merchantRateLimit.windowSeconds` (topology), as the stack's WAF rule allows; default `HERALD_MERCHANT_RATE_LIMIT`, else none. */
  readonly merchantRateLimit?: number;
  /**
   * Concurrent pollers of the deliveries queue, each one Lambda instance's worth: a receiver that
   * never answers holds one for its 10 s timeout. Default 8, to spare the CPU in tests; the
   * delivery benchmark polls as wide as the queue's Lambda concurrency on AWS.
   */
  readonly deliveryPollers?: number;
  /** Period of every schedule in milliseconds instead of the topology's minutes (tests). */
  readonly schedulePeriodMs?: number;
  /**
   * The batching window of every queue's event source instead of the topology's (seconds). A
   * window adds latency and no cost when requests come one at a time, so a benchmark of that
   * workload sets 0.
   */
  readonly maxBatchingWindowSeconds?: number;
  /** Start the queue consumers (default true); a benchmark of the intake alone turns them off. */
  readonly consumers?: boolean;
  /** Run the schedules on their timers (default true); `runSchedule` works either way. */
  readonly schedules?: boolean;
  /**
   * Re-enqueue every unfinished request and pending delivery at start (the queues live in memory,
   * so they start empty). Default: on when the runtime keeps its table in `dataDir` itself.
   */
  readonly recoverAtStart?: boolean;
  /** Local only, for the chaos run: its processor, its ledger and the fault hooks (see `chaos.ts`). */
  readonly chaos?: ChaosOptions;
}

export interface LocalRuntime {
  readonly url: string;
  readonly port: number;
  readonly apiKey: string;
  readonly merchantId: string;
  readonly endpoints: LocalEndpoints;
  readonly resources: ProvisionedResources;
  /** What the start re-enqueued; undefined when it did not recover. */
  readonly recovered?: RecoveryReport;
  /** Runs a schedule's function now (as its timer would), e.g. `runSchedule('sweep')`. */
  runSchedule(name: string): Promise<unknown>;
  /** True while any consumer is handling a batch. */
  busy(): boolean;
  /** Sets every queue's batching window in seconds from the next batch on (undefined: the topology's). */
  setBatchingWindow(seconds: number | undefined): void;
  stop(): Promise<void>;
}

/**
 * The whole of Herald on this machine: embedded AWS-compatible endpoints (DynamoDB Local as a
 * child process, fauxqs in-process), the resources the topology describes, the same handler
 * modules the stack deploys behind an emulated HTTP API, and an SQS event source per queue.
 * Handlers learn their endpoints and resource names through the environment only.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const apiKey = options.apiKey ?? LOCAL_DEMO_API_KEY;
  if (!API_KEY_PATTERN.test(apiKey)) {
    throw new LocalSetupError('HERALD_LOCAL_API_KEY must be 20 or more URL-safe characters (A-Z, a-z, 0-9, "_" and "-")');
  }
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    let endpoints = options.endpoints;
    if (!endpoints) {
      const [dynamodb, fauxqs] = await Promise.allSettled([startDynamoDbLocal({ dataDir: options.dataDir }), startFauxqs()]);
      // One may start while the other fails: it is stopped too, or its process outlives the runtime.
      for (const started of [dynamodb, fauxqs]) if (started.status === 'fulfilled') stops.push(started.value.stop);
      if (dynamodb.status === 'rejected') throw dynamodb.reason;
      if (fauxqs.status === 'rejected') throw fauxqs.reason;
      endpoints = { dynamodb: dynamodb.value.endpoint, sqs: fauxqs.value.endpoint, sns: fauxqs.value.endpoint, s3: fauxqs.value.endpoint };
    }
    const resources = await provision(endpoints, options.names ?? localResourceNames());
    configureHandlerEnvironment(endpoints, resources, options);
    await ensureDemoMerchant(resources.tableName, apiKey);

    const sqs = new SQSClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: endpoints.sqs });
    const sources = (Object.keys(queues) as QueueName[]).flatMap((name) => {
      const spec: QueueSpec = queues[name];
      const { url, arn, slowLane } = resources.queues[name];
      const windowSeconds = options.maxBatchingWindowSeconds ?? spec.maxBatchingWindowSeconds;
      // Deliveries wait on receivers, not on the CPU: more pollers than the CPU-bound queues.
      const pollers = name === 'deliveries' ? (options.deliveryPollers ?? Math.min(spec.maxConcurrency, 8)) : undefined;
      const main = new SqsEventSource(sqs, name, spec, url, arn, pollers, undefined, windowSeconds);
      if (!slowLane || !spec.slowLane) return [main];
      // The slow lane's own event source, at its own concurrency, feeding the same consumer.
      return [main, new SqsEventSource(sqs, name, { ...spec, maxConcurrency: spec.slowLane.maxConcurrency }, slowLane.url, slowLane.arn, undefined, undefined, windowSeconds)];
    });
    const scheduler = new LocalScheduler(options.schedulePeriodMs);
    const outbox = new LocalOutbox();
    const faults = options.chaos ? enableChaos(options.chaos, resources.queues.requests.url) : undefined;
    const gateway = new HttpGateway(localRoutes(endpoints, resources, outbox, faults), options.authorizerCacheTtlSeconds);
    // New every run, so a page that once learnt it cannot use it against the next run.
    const consoleToken = randomBytes(32).toString('base64url');
    gateway.guardLocalRoutes(new LocalRouteGuard(consoleToken));
    // Read four times a second locally, where a table read costs nothing, so demos feel live.
    gateway.addResponder(requestEventStream({ ...DEFAULT_STREAM_LIMITS, pollIntervalMs: 250 }));
    const rateLimit = options.merchantRateLimit ?? (process.env[ENV.merchantRateLimit] ? Number(process.env[ENV.merchantRateLimit]) : undefined);
    if (rateLimit !== undefined) gateway.limitRequestsPerMerchant(new MerchantRateLimiter(rateLimit));
    const requestedPort = options.port ?? Number(process.env.PORT ?? 3000);
    let port: number;
    try {
      port = await gateway.listen(requestedPort);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new LocalSetupError(`Port ${requestedPort} is already in use; stop what runs there or set PORT to another port`);
      }
      throw error;
    }
    stops.push(() => gateway.close());
    const operatorConsole = localConsole({
      apiUrl: `http://127.0.0.1:${port}`,
      apiKey,
      consoleToken,
      merchantId: DEMO_MERCHANT_ID,
      resources,
      sqs,
      outbox,
      requestRetentionDays: defaults.requestRetentionDays,
    });
    gateway.addResponder(operatorConsole.responder);
    stops.push(async () => operatorConsole.stop());
    // Links handed out (statusUrl) point where this runtime was reached from, never where a request says.
    process.env[ENV.publicBaseUrl] = parsePublicBaseUrl(options.publicBaseUrl ?? CONFIGURED_PUBLIC_BASE_URL ?? `http://127.0.0.1:${port}`, ENV.publicBaseUrl);
    // SMS cannot leave this machine: the notifier hands them to the outbox this gateway serves.
    process.env[ENV.smsOutboxUrl] = `http://127.0.0.1:${port}/local/outbox/sms`;
    // Direct email cannot leave this machine either: the notifier hands it to the outbox too.
    const emailFromAddress = options.emailFromAddress ?? process.env[ENV.emailFromAddress];
    if (emailFromAddress) {
      process.env[ENV.emailFromAddress] = emailFromAddress;
      process.env[ENV.emailOutboxUrl] = `http://127.0.0.1:${port}/local/outbox/email`;
    }
    process.env[ENV.publicApiUrl] = `http://127.0.0.1:${port}`;
    const tap = await TopicTap.start(endpoints, resources.topicArns.notifications, outbox);
    stops.push(() => tap.stop());
    const recovered = (options.recoverAtStart ?? (options.dataDir !== undefined && !options.endpoints))
      ? await recoverAtStart(recoveryDependencies(resources))
      : undefined;
    if (options.consumers !== false) sources.forEach((source) => source.start());
    stops.push(async () => {
      await Promise.all(sources.map((source) => source.stop()));
      sqs.destroy();
    });
    if (options.schedules !== false) scheduler.start();
    stops.push(() => scheduler.stop());
    return {
      url: `http://127.0.0.1:${port}`,
      port,
      apiKey,
      merchantId: DEMO_MERCHANT_ID,
      endpoints,
      resources,
      ...(recovered ? { recovered } : {}),
      runSchedule: (name) => scheduler.runOnce(name),
      busy: () => sources.some((source) => source.busy),
      setBatchingWindow: (seconds) => sources.forEach((source) => source.setBatchingWindow(seconds)),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function configureHandlerEnvironment(endpoints: LocalEndpoints, resources: ProvisionedResources, options: LocalRuntimeOptions) {
  Object.assign(process.env, {
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_SNS: endpoints.sns,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    [ENV.tableName]: resources.tableName,
    [ENV.secretsTableName]: resources.secretsTableName,
    [ENV.bodiesBucket]: resources.bodiesBucket,
    [ENV.requestsQueueUrl]: resources.queues.requests.url,
    ...(resources.queues.requests.slowLane ? { [ENV.requestsSlowLaneQueueUrl]: resources.queues.requests.slowLane.url } : {}),
    [ENV.deliveriesQueueUrl]: resources.queues.deliveries.url,
    [ENV.notificationsTopicArn]: resources.topicArns.notifications,
    [ENV.retryScale]: String(options.retryScale ?? process.env[ENV.retryScale] ?? LOCAL_RETRY_SCALE),
    [ENV.localWebhookHosts]: options.localWebhookHosts ?? process.env[ENV.localWebhookHosts] ?? '127.0.0.1,localhost',
    // Locally the demo processors stay on and SMS may go anywhere: they land in the outbox.
    [ENV.demoProcessors]: process.env[ENV.demoProcessors] ?? 'true',
    [ENV.smsAllowedCountries]: process.env[ENV.smsAllowedCountries] ?? '*',
    // Fixed so that ids stay the same across restarts on a kept data directory.
    [ENV.requestIdKey]: process.env[ENV.requestIdKey] ?? 'herald-local-request-ids',
  });
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  process.env.POWERTOOLS_SERVICE_NAME ??= 'herald';
  // EMF would only clutter the terminal (no CloudWatch here) and there is no X-Ray daemon to trace to.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
}

async function ensureDemoMerchant(tableName: string, apiKey: string): Promise<void> {
  const merchants = new DynamoMerchantStore(dynamoClient(), tableName);
  try {
    await merchants.createMerchant({ id: DEMO_MERCHANT_ID, name: 'Local demo merchant' });
  } catch (error) {
    // A kept data directory already has the demo merchant.
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
  if (!(await merchants.findActiveApiKey(apiKey))) await merchants.createApiKey(DEMO_MERCHANT_ID, apiKey);
}

/** What `GET /local/endpoints` answers: how the operator CLI (`herald … --local`) reaches this runtime's resources. */
export interface LocalRuntimeDescription {
  readonly region: string;
  readonly endpoints: LocalEndpoints;
  readonly resources: ProvisionedResources;
}

function recoveryDependencies(resources: ProvisionedResources): RecoveryDependencies {
  const client = dynamoClient();
  return {
    requests: dynamoRequestPorts(client, resources.tableName, defaults.requestRetentionDays, new S3RequestBodies(s3Client(), resources.bodiesBucket)),
    requestQueue: new SqsRequestQueue(sqsClient(), resources.queues.requests.url),
    deliveries: new DynamoDeliveryStore(client, resources.tableName),
    deliveryQueue: new SqsDeliveryQueue(sqsClient(), resources.queues.deliveries.url, deliveryMessageKeyIn(client, resources.secretsTableName)),
    log: (message) => console.log(message),
  };
}

function localRoutes(endpoints: LocalEndpoints, resources: ProvisionedResources, outbox: LocalOutbox, faults?: ChaosFaults): LocalRoute {
  const description: LocalRuntimeDescription = { region: LOCAL_REGION, endpoints, resources };
  return async (request) => {
    const path = new URL(request.url ?? '/', 'http://local').pathname;
    if (request.method === 'GET' && path === '/health') return { status: 200, body: { status: 'ok' } };
    // Local only: there is no such route on AWS, where the CLI reads the stack's outputs instead.
    if (request.method === 'GET' && path === '/local/endpoints') return { status: 200, body: description };
    // Local only: every SMS and email Herald would have sent (GET /local/outbox).
    const outboxed = await outbox.route(request, path);
    if (outboxed) return outboxed;
    // Local only, and only in a chaos run: the faults it switches on and off.
    if (faults && path === '/local/faults') return faults.route(request);
    return undefined;
  };
}
