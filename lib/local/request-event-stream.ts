import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { StreamLimits } from '../../lambdas/core/requests/request-events';
import { functions } from '../topology';
import { PROJECT_ROOT } from './dynamodb-local';
import type { LocalResponder } from './http-gateway';

interface StreamingResponse {
  start(statusCode: number, headers: Record<string, string>): void;
  write(text: string): void;
  end(): void;
  readonly closed: boolean;
}

type ServeRequestEvents = (event: LambdaFunctionURLEvent, response: StreamingResponse, limits?: StreamLimits) => Promise<void>;

/**
 * The events function's module, loaded by its topology entry as the gateway loads every handler
 * (the runtime depends on the topology, not on handler modules). On AWS the runtime's
 * `streamifyResponse` wraps it; here `serveRequestEvents` takes a Node response instead.
 */
function loadServeRequestEvents(): ServeRequestEvents {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require(join(PROJECT_ROOT, functions.events.entry)) as { serveRequestEvents?: ServeRequestEvents };
  if (typeof module.serveRequestEvents !== 'function') throw new Error(`${functions.events.entry} does not export serveRequestEvents`);
  return module.serveRequestEvents;
}

const EVENTS_PATH = /^\/v1\/requests\/[^/]+\/events\/?$/;

/**
 * `GET /v1/requests/{id}/events` on the local runtime: the function URL's handler, called with
 * the event a function URL sends and a Node response in place of Lambda's response stream, so
 * the stream reads, authenticates and ends exactly as it does on AWS.
 */
export function requestEventStream(limits?: StreamLimits): LocalResponder {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (!EVENTS_PATH.test(url.pathname)) return false;
    await loadServeRequestEvents()(functionUrlEvent(req, url), nodeResponse(res), limits);
    return true;
  };
}

function functionUrlEvent(req: IncomingMessage, url: URL): LambdaFunctionURLEvent {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const queryStringParameters = Object.fromEntries(url.searchParams);
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    ...(Object.keys(queryStringParameters).length ? { queryStringParameters } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: (req.method ?? 'GET').toUpperCase(),
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
}

function nodeResponse(res: ServerResponse) {
  let closed = false;
  // The response's close (not the request's, which fires once its body is read) tells the client left.
  res.once('close', () => (closed = true));
  return {
    start: (statusCode: number, headers: Record<string, string>) => {
      res.writeHead(statusCode, headers);
      // Sends the headers now, so a client sees the stream open before the first event.
      res.flushHeaders();
    },
    write: (text: string) => void res.write(text),
    end: () => res.end(),
    get closed() {
      return closed || res.destroyed;
    },
  };
}
