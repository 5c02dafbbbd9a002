import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { PostResult, WebhookTransport } from '../core/deliver-webhook';
import { UnsafeWebhookUrlError } from '../core/webhook-url';
import type { AttemptErrorCode } from '../core/webhooks';
import { LookupTimeoutError, type SsrfGuard, type WebhookTarget } from './ssrf-guard';

export interface SendLimits {
  readonly totalTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly maxResponseBytes: number;
}

type SendResult = PostResult;

/**
 * The transport deliveries use: the SSRF guard again (the host may resolve elsewhere since it was
 * registered), then one POST to the address the guard approved. A refused URL is a failed attempt
 * (`unsafe_address`, or `dns` when the host does not resolve), not an exception. The lookup counts
 * against the attempt's total timeout, so a slow resolver cannot hold a worker longer than a slow
 * receiver could.
 */
export class HttpWebhookTransport implements WebhookTransport {
  constructor(
    private readonly guard: SsrfGuard,
    private readonly limits: SendLimits,
  ) {}

  async post(url: string, headers: Record<string, string>, body: string, options: { readonly timeoutMs?: number } = {}): Promise<PostResult> {
    const started = Date.now();
    const totalTimeoutMs = Math.min(this.limits.totalTimeoutMs, options.timeoutMs ?? Number.POSITIVE_INFINITY);
    let target: WebhookTarget;
    try {
      target = await this.guard.check(url, totalTimeoutMs);
    } catch (error) {
      if (error instanceof LookupTimeoutError) return { error: 'timeout', errorMessage: error.message, latencyMs: Date.now() - started };
      if (!(error instanceof UnsafeWebhookUrlError)) throw error;
      return {
        error: error.reason === 'unresolvable-host' ? 'dns' : 'unsafe_address',
        errorMessage: error.message,
        latencyMs: Date.now() - started,
      };
    }
    const remainingMs = Math.max(totalTimeoutMs - (Date.now() - started), 1);
    const sent = await sendWebhook(target, headers, body, {
      ...this.limits,
      totalTimeoutMs: remainingMs,
      connectTimeoutMs: Math.min(this.limits.connectTimeoutMs, remainingMs),
    });
    return { ...sent, latencyMs: Date.now() - started };
  }
}

/**
 * POSTs one webhook with node's own HTTP client. The connection goes to the address the SSRF
 * guard checked (a `lookup` that returns it, so no second DNS query can be answered differently),
 * while SNI and the Host header keep the host name. Redirects are never followed: node does not
 * follow them, and a 3xx is just a failed attempt. A fresh connection per attempt: a pooled socket
 * to a host that now resolves elsewhere would bypass the check, and one slow receiver must not hold
 * a socket another delivery waits for.
 */
export function sendWebhook(target: WebhookTarget, headers: Record<string, string>, body: string, limits: SendLimits): Promise<SendResult> {
  const started = process.hrtime.bigint();
  const elapsed = () => Number((process.hrtime.bigint() - started) / 1_000_000n);
  const lookup: LookupFunction = (_hostname, options, callback) => {
    // Node asks for a list when it may try several families (autoSelectFamily), else for one address.
    if ((options as { all?: boolean }).all) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
  const url = target.url;
  const options: RequestOptions & { servername?: string } = {
    method: 'POST',
    host: target.hostname,
    port: url.port === '' ? undefined : Number(url.port),
    path: `${url.pathname}${url.search}`,
    headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
    lookup,
    agent: false,
    ...(target.literal === undefined ? { servername: target.hostname } : {}),
  };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;

  return new Promise<SendResult>((resolve) => {
    let settled = false;
    let request: ClientRequest | undefined;
    const finish = (result: Omit<SendResult, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(totalTimer);
      clearTimeout(connectTimer);
      request?.destroy();
      resolve({ ...result, latencyMs: elapsed() });
    };
    const totalTimer = setTimeout(() => finish({ error: 'timeout', errorMessage: `no complete response within ${limits.totalTimeoutMs} ms` }), limits.totalTimeoutMs);
    const connectTimer = setTimeout(
      () => finish({ error: 'connect_timeout', errorMessage: `no connection within ${limits.connectTimeoutMs} ms` }),
      limits.connectTimeoutMs,
    );
    request = send(options, (response) => readCapped(response, limits.maxResponseBytes, finish));
    request.on('socket', (socket) => {
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
    });
    request.on('error', (error: NodeJS.ErrnoException) => finish({ error: errorCodeOf(error), errorMessage: error.message.slice(0, 300) }));
    request.end(body);
  });
}

function readCapped(response: IncomingMessage, maxBytes: number, finish: (result: Omit<SendResult, 'latencyMs'>) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const retryAfter = response.headers['retry-after'];
  const done = () => {
    const responseBody = Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
    finish({ status: response.statusCode ?? 0, ...(responseBody ? { responseBody } : {}), ...(retryAfter ? { retryAfter } : {}) });
  };
  response.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    // The status is what counts; a receiver streaming a large body must not hold the attempt open.
    if (size >= maxBytes) done();
  });
  response.on('end', done);
  response.on('error', done);
}

function errorCodeOf(error: NodeJS.ErrnoException): AttemptErrorCode {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection_refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connection_reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'dns';
    case 'ETIMEDOUT':
      return 'timeout';
    default:
      if (error.code?.startsWith('ERR_TLS') || error.code?.includes('CERT') || /ssl|tls/i.test(error.message)) return 'tls';
      return 'network';
  }
}
