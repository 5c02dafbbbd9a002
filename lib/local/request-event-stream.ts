import type { Context, LambdaFunctionURLEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { StreamLimits } from '../../lambdas/core/requests/request-events';
import { functions } from '../topology';
import { PROJECT_ROOT } from './dynamodb-local';
import type { LocalResponder } from './http-gateway';
import { lambdaContext } from './lambda-context';

interface StreamedResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string | Readable;
}

type StreamHandler = (event: LambdaFunctionURLEvent, context: Context) => Promise<StreamedResult>;

/**
 * The events function's handler built with the runtime's limits, from the module its topology
 * entry names as the gateway loads every handler (the runtime depends on the topology, not on
 * handler modules). On AWS middy's streaming mode pipes the body to Lambda's response stream;
 * here it is piped to the Node response.
 */
function loadRequestEventsHandler(limits?: StreamLimits): StreamHandler {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require(join(PROJECT_ROOT, functions.events.entry)) as { requestEventsHandler?: (limits?: StreamLimits) => StreamHandler };
  if (typeof module.requestEventsHandler !== 'function') throw new Error(`${functions.events.entry} does not export requestEventsHandler`);
  return module.requestEventsHandler(limits);
}

const EVENTS_PATH = /^\/v1\/requests\/[^/]+\/events\/?$/;

/**
 * `GET /v1/requests/{id}/events` on the local runtime: the function URL's handler, called with
 * the event a function URL sends, its body piped to the Node response as Lambda pipes it to its
 * response stream, so the stream reads, authenticates and ends exactly as it does on AWS.
 */
export function requestEventStream(limits?: StreamLimits): LocalResponder {
  let handler: StreamHandler | undefined;
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (!EVENTS_PATH.test(url.pathname)) return false;
    handler ??= loadRequestEventsHandler(limits);
    const result = await handler(functionUrlEvent(req, url), lambdaContext('events', functions.events));
    res.writeHead(result.statusCode, result.headers);
    // Sends the headers now, so a client sees the stream open before the first event.
    res.flushHeaders();
    if (typeof result.body === 'string') res.end(result.body);
    // A client that leaves closes the response, which ends the pipe and with it the handler's stream.
    else await pipeline(result.body, res).catch(() => undefined);
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
