import type { Context } from 'aws-lambda';
import type { HttpEvent } from '../../lambdas/handlers/shared/http';
import type { HttpResult } from '../../lambdas/handlers/shared/problems';

/** An API Gateway HTTP API (payload 2.0) event as the authorizer leaves it for a route handler. */
export function apiEvent(options: {
  method: string;
  path: string;
  routeKey?: string;
  pathParameters?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string | object;
  merchantId?: string;
  authError?: string;
}): HttpEvent {
  const body = typeof options.body === 'object' ? JSON.stringify(options.body) : options.body;
  const headers = { 'content-type': 'application/json', ...(options.headers ?? {}) };
  return {
    version: '2.0',
    routeKey: options.routeKey ?? `${options.method} ${options.path}`,
    rawPath: options.path,
    rawQueryString: '',
    headers,
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'test',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method: options.method, path: options.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      requestId: 'test',
      routeKey: `${options.method} ${options.path}`,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
      authorizer: {
        lambda: {
          ...(options.merchantId ? { merchantId: options.merchantId } : {}),
          ...(options.authError ? { authError: options.authError } : {}),
        },
      },
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded: false,
  } as HttpEvent;
}

export function lambdaContext(remainingMs = 60_000): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:test',
    memoryLimitInMB: '256',
    awsRequestId: 'test',
    logGroupName: 'test',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

type Route = (event: HttpEvent, context: Context) => Promise<HttpResult>;

/** Invokes a route handler and parses its JSON body. */
export async function invoke(handler: unknown, event: HttpEvent) {
  const result = await (handler as Route)(event, lambdaContext());
  const text = result.body ?? '';
  return {
    status: result.statusCode,
    headers: result.headers,
    body: text ? (JSON.parse(text) as Record<string, any>) : undefined,
  };
}
