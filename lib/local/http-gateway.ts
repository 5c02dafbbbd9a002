import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
} from 'aws-lambda';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { AUTHORIZATION_FORMAT, bearerTokenOf } from '../../lambdas/core/merchants/api-keys';
import { AUTHORIZER_CACHE_TTL_SECONDS } from '../../lambdas/settings/api';
import { functions, routes, streamingRoutes, type RouteSpec } from '../topology';
import { lambdaContext, loadHandler } from './lambda-context';
import type { MerchantRateLimiter } from './merchant-rate-limiter';
import { LocalRouteGuard } from './local-route-guard';

type RouteHandler = (event: APIGatewayProxyEventV2, context: unknown) => Promise<APIGatewayProxyStructuredResultV2>;
type AuthorizerHandler = (event: APIGatewayRequestAuthorizerEventV2) => Promise<APIGatewaySimpleAuthorizerWithContextResult<Record<string, unknown>>>;

/** Local-only routes (health, outbox …) answered by the runtime itself, not by a Lambda handler. */
export type LocalRoute = (request: IncomingMessage) => Promise<{ status: number; body: unknown } | undefined>;

/** A local-only route that writes its own response (a page, an event stream); resolves false to pass the request on. */
export type LocalResponder = (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;

interface CompiledRoute {
  readonly spec: RouteSpec;
  readonly pattern: RegExp;
  readonly parameterNames: string[];
}

const MAX_BODY_BYTES = 10 * 1024 * 1024; // API Gateway's own payload limit

/**
 * Emulates API Gateway's HTTP API in front of the handler modules: matches the topology's
 * routes, runs the Lambda authorizer (simple responses, cached per Authorization header for the
 * same TTL as on AWS), builds the payload format 2.0 event AWS would send, and writes back the
 * handler's structured result.
 */
export class HttpGateway {
  private readonly compiled: CompiledRoute[] = routes.map(compile);
  private readonly authorizerCache = new Map<string, { expires: number; context: Record<string, unknown> }>();
  private server?: Server;
  private readonly responders: LocalResponder[] = [];
  private rateLimiter?: MerchantRateLimiter;
  private localRouteGuard?: LocalRouteGuard;
  private port?: number;

  constructor(
    private readonly localRoutes: LocalRoute,
    private readonly authorizerCacheTtlSeconds = AUTHORIZER_CACHE_TTL_SECONDS,
  ) {}

  /**
   * Limits requests per merchant on every route that takes an API key, the event stream
   * included: the key is read strictly and resolved to its merchant (through the authorizer's
   * cache) before the route runs, so no spelling of the header and no route escapes the count.
   */
  limitRequestsPerMerchant(limiter: MerchantRateLimiter): void {
    this.rateLimiter = limiter;
  }

  /** Serves the console and the `/local/*` routes only to requests that pass the guard (see LocalRouteGuard). */
  guardLocalRoutes(guard: LocalRouteGuard): void {
    this.localRouteGuard = guard;
  }

  /** Listens on 127.0.0.1 only: the console and `/local/*` routes carry the demo key's powers and no authentication of their own. */
  listen(port: number): Promise<number> {
    const server = createServer((req, res) => {
      this.serve(req, res).catch((error) => {
        console.error('Local gateway error', error);
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ message: 'Internal Server Error' }));
      });
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        const address = server.address();
        this.port = typeof address === 'object' && address ? address.port : port;
        resolve(this.port);
      });
    });
  }

  /** Serves requests a responder claims before any route of the topology. */
  addResponder(responder: LocalResponder): void {
    this.responders.push(responder);
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://local');
    } catch {
      // A request target no URL parser accepts: API Gateway answers such requests itself, with a 400.
      return send(res, 400, { 'Content-Type': 'application/json' }, JSON.stringify({ message: 'Bad Request' }));
    }
    if (this.localRouteGuard && LocalRouteGuard.covers(url.pathname)) {
      const refused = this.localRouteGuard.check(req, this.port!);
      if (refused) return send(res, refused.status, refused.headers, refused.body);
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const match = this.match(method, url.pathname);
    const streaming = method === 'GET' && STREAMING_PATHS.some((pattern) => pattern.test(url.pathname));
    // The stream answers before the topology's routes (it writes its own response), so it is
    // admitted here with them: one key check and one count for every route that takes a key.
    let admitted: Record<string, unknown> | undefined;
    if (streaming || match?.route.spec.authorized) {
      const admission = await this.admit(req, method, url);
      if ('refusal' in admission) {
        // Read to the end first, as readBody does: a reset would hide the answer from a client still sending.
        for await (const _ of req);
        return send(res, admission.refusal.status, admission.refusal.headers, admission.refusal.body);
      }
      admitted = admission.context;
    }
    for (const responder of this.responders) if (await responder(req, res)) return;
    const local = await this.localRoutes(req);
    if (local) return send(res, local.status, { 'Content-Type': 'application/json' }, JSON.stringify(local.body));

    if (!match) {
      return send(res, 404, { 'Content-Type': 'application/json' }, JSON.stringify({ message: 'Not Found' }));
    }
    const body = await readBody(req);
    if (body === undefined) {
      return send(res, 413, { 'Content-Type': 'application/json' }, JSON.stringify({ message: 'Request Entity Too Large' }));
    }
    const event = toEvent(req, url, match, body);
    if (admitted) (event.requestContext as unknown as Record<string, unknown>).authorizer = { lambda: admitted };
    const spec = functions[match.route.spec.function];
    const handler = loadHandler<RouteHandler>(spec);
    const result = await handler(event, lambdaContext(match.route.spec.function, spec));
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
    const payload = result.body === undefined ? '' : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
    send(res, result.statusCode ?? 200, headers, payload);
  }

  /**
   * What API Gateway and the WAF decide before a keyed route runs: a missing header or one that is
   * not exactly `Bearer <key>` is a 401 problem before any count; otherwise the merchant the
   * authorizer resolves (a refused key counts under the key itself) takes one request of its
   * window, and a full window is the 429 the WAF rule answers on AWS.
   */
  private async admit(
    req: IncomingMessage,
    method: string,
    url: URL,
  ): Promise<{ context: Record<string, unknown> } | { refusal: { status: number; headers: Record<string, string>; body: string } }> {
    const header = req.headers.authorization;
    // API Gateway answers a missing identity source itself, without invoking the authorizer.
    if (!header) return { refusal: unauthorized('An API key is required: send Authorization: Bearer <api key>') };
    const key = bearerTokenOf(header);
    if (!key) return { refusal: unauthorized(AUTHORIZATION_FORMAT) };
    const context = await this.authorize(method, url, header);
    if (!context) return { refusal: { status: 403, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ message: 'Forbidden' }) } };
    const merchantId = typeof context.merchantId === 'string' ? context.merchantId : undefined;
    const limited = this.rateLimiter?.check(merchantId ? `merchant:${merchantId}` : `key:${key}`);
    if (limited) return { refusal: limited };
    return { context };
  }

  private async authorize(method: string, url: URL, authorization: string): Promise<Record<string, unknown> | undefined> {
    const cached = this.authorizerCache.get(authorization);
    if (cached && cached.expires > Date.now()) return cached.context;
    const authorizer = loadHandler<AuthorizerHandler>(functions.authorizer);
    const result = await authorizer({
      version: '2.0',
      type: 'REQUEST',
      routeArn: `arn:aws:execute-api:us-east-1:000000000000:local/$default/${method}${url.pathname}`,
      identitySource: [authorization],
      routeKey: `${method} ${url.pathname}`,
      rawPath: url.pathname,
      rawQueryString: url.search.replace(/^\?/, ''),
      cookies: [],
      headers: { authorization },
      queryStringParameters: Object.fromEntries(url.searchParams),
      pathParameters: {},
      stageVariables: {},
    } as unknown as APIGatewayRequestAuthorizerEventV2);
    const context = result.isAuthorized ? (result.context ?? {}) : undefined;
    if (context && this.authorizerCacheTtlSeconds > 0) {
      this.authorizerCache.set(authorization, { expires: Date.now() + this.authorizerCacheTtlSeconds * 1000, context });
    }
    return context;
  }

  private match(method: string, path: string) {
    for (const route of this.compiled) {
      if (route.spec.method !== method) continue;
      const found = route.pattern.exec(path);
      if (!found) continue;
      const pathParameters: Record<string, string> = {};
      route.parameterNames.forEach((name, i) => (pathParameters[name] = decodePathSegment(found[i + 1]!)));
      return { route, pathParameters };
    }
    return undefined;
  }
}

/** The streaming routes' paths (served by a responder, not by the topology's routes). */
const STREAMING_PATHS: readonly RegExp[] = streamingRoutes.map((route) => compile({ ...route, authorized: true }).pattern);

function unauthorized(detail: string) {
  return {
    status: 401,
    headers: { 'Content-Type': 'application/problem+json', 'WWW-Authenticate': 'Bearer realm="herald"' },
    body: JSON.stringify({ type: 'https://herald.dev/problems/unauthorized', title: 'Unauthorized', status: 401, detail }),
  };
}

/**
 * A path parameter as API Gateway hands it over: percent-decoded, or as sent when it is not
 * valid percent-encoding (`%ff`, a lone `%`). Deciding what such an id means is the route's job;
 * a URIError here would be a 500 for something the client got wrong.
 */
export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function compile(spec: RouteSpec): CompiledRoute {
  const parameterNames: string[] = [];
  // Escape everything but the `{name}` placeholders, which match one path segment each.
  const source = spec.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_, name: string) => {
    parameterNames.push(name);
    return '([^/]+)';
  });
  return { spec, pattern: new RegExp(`^${source}$`), parameterNames };
}

function toEvent(
  req: IncomingMessage,
  url: URL,
  match: { route: CompiledRoute; pathParameters: Record<string, string> },
  body: Buffer,
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (name === 'cookie') cookies.push(...String(value).split(/;\s*/));
    else headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const queryStringParameters: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    queryStringParameters[name] = queryStringParameters[name] ? `${queryStringParameters[name]},${value}` : value;
  }
  const now = new Date();
  const routeKey = `${match.route.spec.method} ${match.route.spec.path}`;
  const contentType = headers['content-type'] ?? '';
  // API Gateway passes text-like bodies as text and everything else base64-encoded.
  const textual = contentType === '' || /json|text|xml|x-www-form-urlencoded/i.test(contentType);
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    ...(cookies.length ? { cookies } : {}),
    headers,
    ...(Object.keys(queryStringParameters).length ? { queryStringParameters } : {}),
    ...(Object.keys(match.pathParameters).length ? { pathParameters: match.pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: match.route.spec.method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body: textual ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !textual,
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    // Read the rest without keeping it: answering before the client has sent everything would
    // reset a connection it is still writing to, and it would see an error instead of the 413.
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  return size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer): void {
  res.writeHead(status, headers);
  res.end(status === 304 ? undefined : body);
}
