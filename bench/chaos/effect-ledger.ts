import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * The chaos run's ledger: the outside world the chaos processor acts on. It records every act,
 * so a step done twice shows up as a count of 2 (the processor checks before it acts; the lease
 * must keep two attempts from acting at once).
 */

export interface Effect {
  count: number;
  readonly requestId: string;
  readonly step: number;
  readonly operation: string;
}

export async function startLedger(): Promise<{ url: string; effects: Map<string, Effect>; close(): Promise<void> }> {
  const effects = new Map<string, Effect>();
  const server = createServer(async (req, res) => {
    const match = /^\/effects\/([^/]+)\/(\d+)$/.exec(req.url ?? '');
    if (!match) return answer(res, 404);
    const key = `${decodeURIComponent(match[1]!)}/${match[2]}`;
    if (req.method === 'GET') return answer(res, effects.has(key) ? 200 : 404);
    let body: { operation: string };
    try {
      body = JSON.parse(await text(req)) as { operation: string };
    } catch {
      // A runtime killed while posting an effect cuts its body short: that effect never arrived,
      // and its processor posts it again after the restart.
      return answer(res, 400);
    }
    const existing = effects.get(key);
    if (existing) existing.count++;
    else effects.set(key, { count: 1, requestId: decodeURIComponent(match[1]!), step: Number(match[2]), operation: body.operation });
    answer(res, 201);
  });
  const port = await listen(server, 0);
  return { url: `http://127.0.0.1:${port}`, effects, close: () => close(server) };
}

function answer(res: ServerResponse, status: number): void {
  res.writeHead(status);
  res.end();
}

function text(req: IncomingMessage): Promise<string> {
  return new Promise((resolveText, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolveText(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolveListen(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolveClose) => {
    server.close(() => resolveClose());
    server.closeAllConnections();
  });
}
