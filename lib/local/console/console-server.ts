/**
 * The local console at `/`: a page that shows, live, what the local runtime is doing — the demo
 * merchant's requests, its webhook endpoints and their deliveries, each queue's dead letters and
 * the SMS/email outbox — with the buttons an operator reaches for (retry, recover, redrive).
 *
 * It owns no logic of its own. Everything it shows or does goes through the API's handlers (it
 * calls this runtime's HTTP API with the demo merchant's key, which never reaches the browser)
 * or the operations `herald` runs (`queueDepths`, `redrive` in lib/operations), so the console, `curl` and `herald` can
 * never disagree. Local only: the stack deploys none of this.
 *
 * Bounds: a snapshot holds the 25 newest requests, 20 endpoints with their 20 newest deliveries
 * each, and the 50 newest outbox messages; it is rebuilt every 500 ms while a browser is watching
 * and not at all otherwise. Older requests are read a page of 25 at a time (the API's cursor), and
 * a form's body is at most 256 KiB, the API's own bound.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { DynamoRedriveLog } from '../../../lambdas/adapters/dynamo-redrive-log';
import { dynamoRequestPorts } from '../../../lambdas/adapters/dynamo-request-ports';
import { dynamoClient, s3Client } from '../../../lambdas/adapters/aws-clients';
import { S3RequestBodies } from '../../../lambdas/adapters/s3-request-bodies';
import { queueDepths, queueUrlsOf } from '../../operations/queue-depths';
import { redrive } from '../../operations/redrive';
import { queues } from '../../topology';
import { type QueueName } from '../../../lambdas/settings/retry';
import type { LocalResponder } from '../http-gateway';
import type { LocalOutbox } from '../outbox';
import type { ProvisionedResources } from '../provision';

export const CONSOLE_LIMITS = { requestsPerPage: 25, endpoints: 20, deliveriesPerEndpoint: 20, outbox: 50, refreshMs: 500, formBodyBytes: 256 * 1024 } as const;

export interface ConsoleOptions {
  /** Base URL of this runtime's API, and the demo merchant's key to call it with. */
  readonly apiUrl: string;
  readonly apiKey: string;
  /** The per-run token the page sends with every action (see LocalRouteGuard). */
  readonly consoleToken: string;
  readonly merchantId: string;
  readonly resources: ProvisionedResources;
  readonly sqs: SQSClient;
  readonly outbox: LocalOutbox;
  /** Days a request is kept, to read the stored request (payload, key, targets) for its detail. */
  readonly requestRetentionDays: number;
}

/** Where console.html takes the per-run token; the page's script sends it back with every action. */
const TOKEN_PLACEHOLDER = '{{consoleToken}}';

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'console.html', type: 'text/html; charset=utf-8' },
  '/local/console/console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
  '/local/console/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
};

/** The console's routes on the runtime's port: the page, its live snapshot stream and its actions. */
export function localConsole(options: ConsoleOptions): { responder: LocalResponder; stop(): void } {
  const watchers = new Set<ServerResponse>();
  let timer: NodeJS.Timeout | undefined;
  let last = '';
  let building = false;

  const broadcast = async () => {
    if (building) return;
    building = true;
    try {
      const snapshot = JSON.stringify(await buildSnapshot(options));
      if (snapshot === last) return;
      last = snapshot;
      for (const watcher of watchers) watcher.write(`event: snapshot\ndata: ${snapshot}\n\n`);
    } catch (error) {
      for (const watcher of watchers) watcher.write(`event: trouble\ndata: ${JSON.stringify({ message: (error as Error).message })}\n\n`);
    } finally {
      building = false;
    }
  };

  const watch = (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store' });
    res.write('retry: 1000\n\n');
    watchers.add(res);
    last = '';
    void broadcast();
    timer ??= setInterval(() => void broadcast(), CONSOLE_LIMITS.refreshMs);
    res.once('close', () => {
      watchers.delete(res);
      if (watchers.size === 0 && timer) {
        clearInterval(timer);
        timer = undefined;
      }
    });
  };

  const responder: LocalResponder = async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    const method = req.method ?? 'GET';
    const asset = Object.hasOwn(ASSETS, path) ? ASSETS[path] : undefined;
    if (asset && method === 'GET') {
      // Read per request: the files are small, and an edit shows on the next reload.
      const content = readFileSync(join(__dirname, asset.file), 'utf8');
      res.writeHead(200, { 'Content-Type': asset.type, 'Cache-Control': 'no-store' });
      res.end(asset.file === 'console.html' ? content.replace(TOKEN_PLACEHOLDER, options.consoleToken) : content);
      return true;
    }
    if (!path.startsWith('/local/console/')) return false;
    if (path === '/local/console/stream' && method === 'GET') {
      watch(req, res);
      return true;
    }
    const form = method === 'POST' ? await readForm(req) : { ok: true as const, value: undefined };
    if (!form.ok) {
      res.writeHead(form.status, { 'Content-Type': 'application/problem+json' });
      res.end(JSON.stringify(form.problem));
      return true;
    }
    const url = new URL(req.url ?? '/', 'http://local');
    const action = await act(options, method, path.slice('/local/console'.length), url.searchParams, form.value);
    if (!action) return false;
    // By the status, not the body's shape: a request's own `type` is a string too.
    res.writeHead(action.status, { 'Content-Type': action.status >= 400 ? 'application/problem+json' : 'application/json' });
    res.end(JSON.stringify(action.body));
    void broadcast();
    return true;
  };

  return {
    responder,
    stop: () => {
      if (timer) clearInterval(timer);
      for (const watcher of watchers) watcher.end();
      watchers.clear();
    },
  };
}

/** Calls this runtime's HTTP API as the demo merchant: the same gateway, authorizer and handlers as `curl`. */
async function api(options: ConsoleOptions, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(options.apiUrl + path, {
    method,
    headers: { authorization: `Bearer ${options.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function buildSnapshot(options: ConsoleOptions) {
  const [requests, endpoints, depths] = await Promise.all([
    api(options, 'GET', `/v1/requests?limit=${CONSOLE_LIMITS.requestsPerPage}`),
    api(options, 'GET', '/v1/webhooks'),
    queueDepths(options.sqs, queueUrlsOf(options.resources.queues)),
  ]);
  const endpointViews = ((endpoints.body?.data ?? []) as { id: string }[]).slice(0, CONSOLE_LIMITS.endpoints);
  const withDeliveries = await Promise.all(
    endpointViews.map(async (endpoint) => ({
      ...endpoint,
      deliveries: (await api(options, 'GET', `/v1/webhooks/${endpoint.id}/deliveries?limit=${CONSOLE_LIMITS.deliveriesPerEndpoint}`)).body?.data ?? [],
    })),
  );
  return {
    merchantId: options.merchantId,
    // The first page of requests, live; older pages are read on demand with its cursor.
    requests: { items: requests.body?.items ?? [], nextCursor: requests.body?.nextCursor },
    endpoints: withDeliveries,
    queues: depths,
    outbox: options.outbox.list().slice(-CONSOLE_LIMITS.outbox).reverse(),
  };
}

/**
 * The console's buttons, forms and request views, each one an API call or a CLI operation. A path
 * segment that is not valid percent-encoding, or names no queue of its own (`__proto__`,
 * `toString` are properties of every object), is a 404 like any unknown id.
 */
async function act(
  options: ConsoleOptions,
  method: string,
  path: string,
  query: URLSearchParams,
  form: Record<string, unknown> | undefined,
): Promise<{ status: number; body: unknown } | undefined> {
  let match: RegExpExecArray | null;
  if (method === 'GET' && path === '/requests') {
    // One page of every request, the API's cursor passed through untouched.
    const params = new URLSearchParams({ limit: String(CONSOLE_LIMITS.requestsPerPage) });
    const status = query.get('status');
    const cursor = query.get('cursor');
    if (status) params.set('status', status);
    if (cursor) params.set('cursor', cursor);
    return api(options, 'GET', `/v1/requests?${params}`);
  }
  if (method === 'POST' && path === '/requests') {
    const { idempotencyKey, ...submission } = form ?? {};
    const headers: Record<string, string> = typeof idempotencyKey === 'string' && idempotencyKey ? { 'idempotency-key': idempotencyKey } : {};
    return api(options, 'POST', '/v1/requests', submission, headers);
  }
  if (method === 'GET' && (match = /^\/requests\/([^/]+)$/.exec(path))) {
    const id = decodeSegment(match[1]!);
    if (id === undefined) return notFound(`No request has the id ${match[1]}: it is not valid percent-encoding`);
    const encoded = encodeURIComponent(id);
    const [request, deliveries] = await Promise.all([api(options, 'GET', `/v1/requests/${encoded}`), api(options, 'GET', `/v1/requests/${encoded}/deliveries`)]);
    if (request.status !== 200) return request;
    // The API's view leaves out what the client sent; the operator's detail shows it.
    const bodies = new S3RequestBodies(s3Client(), options.resources.bodiesBucket);
    const submitted = await dynamoRequestPorts(dynamoClient(), options.resources.tableName, options.requestRetentionDays, bodies).queries.getSubmittedForMerchant(
      options.merchantId,
      id,
    );
    return {
      status: 200,
      body: {
        ...request.body,
        payload: submitted?.payload,
        idempotencyKey: submitted?.idempotencyKey,
        notify: submitted?.notify ?? {},
        deliveryLog: deliveries.body?.data ?? [],
      },
    };
  }
  if (method === 'POST' && (match = /^\/deliveries\/([^/]+)\/retry$/.exec(path))) {
    const id = decodeSegment(match[1]!);
    if (id === undefined) return notFound(`No delivery has the id ${match[1]}: it is not valid percent-encoding`);
    return api(options, 'POST', `/v1/deliveries/${encodeURIComponent(id)}/retry`);
  }
  if (method === 'POST' && path === '/webhooks') {
    return api(options, 'POST', '/v1/webhooks', form ?? {});
  }
  if (method === 'POST' && (match = /^\/webhooks\/([^/]+)\/(recover|test|enable|disable|rotate)$/.exec(path))) {
    const id = decodeSegment(match[1]!);
    if (id === undefined) return notFound(`No webhook endpoint has the id ${match[1]}: it is not valid percent-encoding`);
    const endpoint = `/v1/webhooks/${encodeURIComponent(id)}`;
    switch (match[2]) {
      case 'test':
        return api(options, 'POST', `${endpoint}/test`);
      case 'enable':
        return api(options, 'PATCH', endpoint, { disabled: false });
      case 'disable':
        return api(options, 'PATCH', endpoint, { disabled: true });
      case 'rotate':
        return api(options, 'POST', `${endpoint}/rotate-secret`);
      default: {
        // Everything the endpoint missed that the API lets a merchant recover: the last 14 days, less a minute of slack.
        const since = new Date(Date.now() - (14 * 24 * 60 - 1) * 60_000).toISOString();
        return api(options, 'POST', `${endpoint}/recover`, { since });
      }
    }
  }
  if (method === 'POST' && (match = /^\/redrive\/([^/]+)$/.exec(path))) {
    const name = decodeSegment(match[1]!);
    if (name === undefined || !Object.hasOwn(queues, name)) {
      return notFound(`No queue is named ${name ?? match[1]}; the queues are ${Object.keys(queues).join(', ')}`);
    }
    const queueName = name as QueueName;
    const urls = options.resources.queues[queueName];
    const report = await redrive({
      sqs: options.sqs,
      queueName,
      queueUrl: urls.url,
      deadLetterUrl: urls.deadLetterUrl,
      redrives: new DynamoRedriveLog(dynamoClient(), options.resources.tableName),
      // fauxqs, behind the local runtime, has no message move tasks.
      moveTasks: false,
    });
    return { status: 200, body: { queue: queueName, ...report } };
  }
  return undefined;
}

/**
 * A form's JSON body (empty for a button), refused as the API would refuse it: too large, or not
 * a JSON object.
 */
async function readForm(
  req: IncomingMessage,
): Promise<{ ok: true; value: Record<string, unknown> | undefined } | { ok: false; status: 400 | 413; problem: Record<string, unknown> }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Read on to the end, so the client sees the answer rather than a reset.
    if (size <= CONSOLE_LIMITS.formBodyBytes) chunks.push(chunk);
  }
  if (size > CONSOLE_LIMITS.formBodyBytes) {
    return { ok: false, status: 413, problem: problem(413, 'payload-too-large', 'Payload too large', `A console form's body is at most ${CONSOLE_LIMITS.formBodyBytes} bytes; this one had ${size}`) };
  }
  if (size === 0) return { ok: true, value: undefined };
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { ok: true, value: value as Record<string, unknown> };
  } catch {
    // Answered below, as for any other body that is not an object.
  }
  return { ok: false, status: 400, problem: problem(400, 'malformed-json', 'Bad request', 'A console form sends one JSON object') };
}

/** A percent-encoded path segment, decoded; undefined when it is not valid percent-encoding (`%ff`, a cut-off `%E0%A4%A`). */
function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function notFound(detail: string): { status: 404; body: Record<string, unknown> } {
  return { status: 404, body: problem(404, 'not-found', 'Not found', detail) };
}

function problem(status: number, code: string, title: string, detail: string): Record<string, unknown> {
  return { type: `https://herald.dev/problems/${code}`, title, status, detail };
}
