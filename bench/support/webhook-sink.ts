import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback endpoint that answers every webhook 204 and lets a client wait for a request's event. */
export interface WebhookSink {
  readonly url: string;
  /** Resolves once the event of `requestId` has arrived (at once if it already has); rejects after `timeoutMs`. */
  arrivalOf(requestId: string, timeoutMs?: number): Promise<void>;
  /** Forgets an arrival, so a long run keeps no more than the requests still in flight. */
  forget(requestId: string): void;
  /** Bytes the sink has received (request lines, headers and bodies): what leaves AWS toward receivers. */
  readonly bytesReceived: number;
  close(): void;
}

/**
 * Starts the receiver the benchmarks deliver to. It answers before reading the event's id, so
 * the figures measure Herald's delivery and not the receiver's work; `answerAfterMs` makes it
 * answer that much later, as a receiver doing work before its 2xx would.
 */
export async function startWebhookSink(options: { answerAfterMs?: number } = {}): Promise<WebhookSink> {
  const arrived = new Set<string>();
  const waiting = new Map<string, () => void>();
  let bytesReceived = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    bytesReceived += `${req.method} ${req.url} HTTP/1.1\r\n`.length + 2;
    for (let i = 0; i < req.rawHeaders.length; i += 2) bytesReceived += Buffer.byteLength(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`);
    req.on('data', (chunk: Buffer) => {
      bytesReceived += chunk.length;
      chunks.push(chunk);
    });
    req.on('end', async () => {
      if (options.answerAfterMs) await new Promise((resolve) => setTimeout(resolve, options.answerAfterMs));
      res.writeHead(204).end();
      const id = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data?: { id?: string } }).data?.id;
      if (!id) return;
      arrived.add(id);
      waiting.get(id)?.();
      waiting.delete(id);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    arrivalOf(requestId, timeoutMs = 60_000) {
      if (arrived.has(requestId)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no webhook for ${requestId} within ${timeoutMs / 1000} s`)), timeoutMs);
        waiting.set(requestId, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    forget: (requestId) => void arrived.delete(requestId),
    get bytesReceived() {
      return bytesReceived;
    },
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
