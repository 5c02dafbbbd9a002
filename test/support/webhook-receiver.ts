import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import { restartablePort } from '../../lib/local/free-port';

/**
 * The one webhook receiver of the tests, the benchmarks and the chaos run: a real HTTP server on
 * loopback that answers as its script says and lets a caller wait for what arrived.
 */

export interface ReceivedWebhook {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** `Date.now()` when the body had arrived. */
  readonly receivedAt: number;
}

/**
 * What the receiver answers to its n-th webhook (1-based): a status, `hang` (hold the request
 * without answering, for `hangMs` or until close) or `drop` (cut the connection).
 */
export type Reply = { status: number; headers?: Record<string, string>; body?: string } | 'hang' | 'drop';

export interface ReceiverOptions {
  /** The script: what to answer the n-th webhook. Every webhook is answered 200 without one. */
  readonly reply?: (n: number, webhook: ReceivedWebhook) => Reply;
  /** The path of the URL handed out (any path is served). */
  readonly path?: string;
  /** Answer this much later, as a receiver doing work before its 2xx would. */
  readonly answerAfterMs?: number;
  /** How long a `hang` holds before the connection is cut; held until close without it. */
  readonly hangMs?: number;
  /**
   * Keep every webhook in `received` (the default). A long benchmark turns it off so memory stays
   * bounded by the requests still awaited through `arrivalOf`.
   */
  readonly record?: boolean;
}

export interface WebhookReceiver {
  readonly url: string;
  /** Every webhook so far, in arrival order (empty when `record` is off). */
  readonly received: ReceivedWebhook[];
  /** Resolves once `count` webhooks have arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  /** Resolves once a webhook whose `data.id` is `subjectId` has arrived (at once if one has); rejects after `timeoutMs`. */
  arrivalOf(subjectId: string, timeoutMs?: number): Promise<void>;
  /** Forgets an arrival, so a long run keeps no more than what it still waits for. */
  forget(subjectId: string): void;
  /** Bytes received (request lines, headers and bodies): what leaves Herald toward receivers. */
  readonly bytesReceived: number;
  /** Stops listening for `ms` (connections refused), then listens on the same port again. */
  down(ms: number): Promise<void>;
  close(): Promise<void>;
}

/** The standard-webhooks headers of a received webhook, as `Webhook.verify` takes them. */
export function webhookHeadersOf(webhook: Pick<ReceivedWebhook, 'headers'>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(webhook.headers)) if (value !== undefined) headers[name] = String(value);
  return headers;
}

/** The event a received webhook carries, verified against `secret`; throws when the signature does not hold. */
export function verifyWebhook<Event = { type: string; data: { id: string } } & Record<string, unknown>>(
  webhook: Pick<ReceivedWebhook, 'headers' | 'body'>,
  secret: string,
): Event {
  return new Webhook(secret).verify(webhook.body, webhookHeadersOf(webhook)) as Event;
}

/** Starts a receiver; `startReceiver(reply)` keeps the short form the tests use. */
export async function startReceiver(options: ReceiverOptions | ReceiverOptions['reply'] = {}, path?: string): Promise<WebhookReceiver> {
  const settings: ReceiverOptions = typeof options === 'function' ? { reply: options, ...(path ? { path } : {}) } : options;
  const reply: NonNullable<ReceiverOptions['reply']> = settings.reply ?? (() => ({ status: 200 }));
  const record = settings.record ?? true;
  const received: ReceivedWebhook[] = [];
  const hanging = new Set<ServerResponse>();
  const countWaiters = new Set<() => void>();
  const arrived = new Set<string>();
  const arrivalWaiters = new Map<string, () => void>();
  let count = 0;
  let bytesReceived = 0;

  const noteArrival = (body: string) => {
    let subjectId: string | undefined;
    try {
      subjectId = (JSON.parse(body) as { data?: { id?: string } }).data?.id;
    } catch {
      return;
    }
    if (!subjectId) return;
    arrived.add(subjectId);
    arrivalWaiters.get(subjectId)?.();
    arrivalWaiters.delete(subjectId);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    bytesReceived += `${req.method} ${req.url} HTTP/1.1\r\n`.length + 2;
    for (let i = 0; i < req.rawHeaders.length; i += 2) bytesReceived += Buffer.byteLength(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`);
    req.on('data', (chunk: Buffer) => {
      bytesReceived += chunk.length;
      chunks.push(chunk);
    });
    req.on('end', async () => {
      const webhook: ReceivedWebhook = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), receivedAt: Date.now() };
      count++;
      if (record) received.push(webhook);
      countWaiters.forEach((wake) => wake());
      const answer = reply(count, webhook);
      if (settings.answerAfterMs) await sleep(settings.answerAfterMs);
      if (answer === 'drop') {
        req.socket.destroy();
      } else if (answer === 'hang') {
        hanging.add(res);
        if (settings.hangMs !== undefined) {
          setTimeout(() => {
            hanging.delete(res);
            res.destroy();
          }, settings.hangMs).unref();
        }
      } else {
        res.writeHead(answer.status, answer.status === 204 ? { ...answer.headers } : { 'content-type': 'text/plain', ...answer.headers });
        res.end(answer.status === 204 ? undefined : (answer.body ?? 'ok'));
      }
      // Arrivals are told after the answer, so a benchmark waiting on them measures Herald, not this server.
      noteArrival(webhook.body);
    });
  };

  let server = createServer(handle);
  // `down` listens on this port again, so it must be one an outgoing connection cannot take meanwhile.
  const port = await listen(server, await restartablePort());
  const stopServing = async () => {
    hanging.forEach((res) => res.destroy());
    hanging.clear();
    await close(server);
  };
  return {
    url: `http://127.0.0.1:${port}${settings.path ?? '/hook'}`,
    received,
    waitFor(wanted, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (count < wanted) return false;
          clearTimeout(timer);
          countWaiters.delete(check);
          resolve(received.slice(0, wanted));
          return true;
        };
        const timer = setTimeout(() => {
          countWaiters.delete(check);
          reject(new Error(`Only ${count} of ${wanted} webhooks arrived within ${timeoutMs} ms`));
        }, timeoutMs);
        if (!check()) countWaiters.add(check);
      });
    },
    arrivalOf(subjectId, timeoutMs = 60_000) {
      if (arrived.has(subjectId)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no webhook for ${subjectId} within ${timeoutMs / 1000} s`)), timeoutMs);
        arrivalWaiters.set(subjectId, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    forget: (subjectId) => void arrived.delete(subjectId),
    get bytesReceived() {
      return bytesReceived;
    },
    async down(ms) {
      await stopServing();
      await sleep(ms);
      server = createServer(handle);
      await listen(server, port);
    },
    close: stopServing,
  };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * The receiver the benchmarks deliver to: 204 to everything, nothing kept but arrivals awaited, so
 * a long run's memory stays flat; `answerAfterMs` makes it answer as a receiver doing work first would.
 */
export function startWebhookSink(options: { answerAfterMs?: number } = {}): Promise<WebhookReceiver> {
  return startReceiver({ reply: () => ({ status: 204 }), record: false, path: '/hooks', ...options });
}
