import { signWith } from './webhook-signatures';
import { attemptTimeoutMs, type AttemptTimeouts } from './attempt-timeout';
import { activeSecrets, type WebhookEndpoint } from './endpoint';
import { ATTEMPT_ERROR_MESSAGE_CHARS, excerptOf, type AttemptErrorCode, type DeliveryAttempt } from './delivery';

/** What one POST came to: an HTTP status, or an error code when no response arrived. */
export interface PostResult {
  readonly status?: number;
  readonly error?: AttemptErrorCode;
  readonly errorMessage?: string;
  readonly latencyMs: number;
  readonly responseBody?: string;
  readonly retryAfter?: string;
}

/** Sends one signed POST to a URL, re-checking the URL first (SSRF); never throws for the receiver's faults. */
export interface WebhookTransport {
  /** `timeoutMs` shortens the transport's own attempt timeout, never lengthens it. */
  post(url: string, headers: Record<string, string>, body: string, options?: { readonly timeoutMs?: number }): Promise<PostResult>;
}

/**
 * Standard Webhooks headers for one attempt: `webhook-id` (the delivery id, the same on every
 * attempt so receivers can dedupe), the attempt's timestamp, and one signature per active secret
 * (`v1,` for a `whsec_` secret, `v1a,` for a `whsk_` key), space-separated, so a receiver holding
 * either secret or public key verifies during a rotation.
 */
export function signatureHeaders(secrets: readonly string[], id: string, at: Date, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => signWith(secret, id, at, body)).join(' '),
  };
}

export interface AttemptDependencies extends AttemptTimeouts {
  readonly transport: WebhookTransport;
  readonly userAgent: string;
  readonly now?: () => Date;
}

/** Signs and posts one attempt and says what it came to, as recorded on the delivery. */
export async function attemptDelivery(
  deps: AttemptDependencies,
  endpoint: WebhookEndpoint,
  delivery: { readonly id: string; readonly traceId?: string },
  body: string,
  attempt: number,
): Promise<{ readonly attempt: DeliveryAttempt; readonly result: PostResult }> {
  const at = (deps.now ?? (() => new Date()))();
  const headers = {
    'content-type': 'application/json',
    'user-agent': deps.userAgent,
    ...(delivery.traceId ? { 'x-request-id': delivery.traceId } : {}),
    ...signatureHeaders(activeSecrets(endpoint, at), delivery.id, at, body),
  };
  const timeoutMs = attemptTimeoutMs(attempt, deps);
  const result = await (timeoutMs === undefined ? deps.transport.post(endpoint.url, headers, body) : deps.transport.post(endpoint.url, headers, body, { timeoutMs }));
  return {
    result,
    attempt: {
      at: at.toISOString(),
      attempt,
      ...(result.status !== undefined ? { status: result.status } : {}),
      ...(result.error ? { error: result.error } : {}),
      ...(result.errorMessage ? { errorMessage: result.errorMessage.slice(0, ATTEMPT_ERROR_MESSAGE_CHARS) } : {}),
      latencyMs: result.latencyMs,
      ...(result.responseBody ? { responseBody: excerptOf(result.responseBody) } : {}),
    },
  };
}

export const isSuccess = (result: PostResult) => result.status !== undefined && result.status >= 200 && result.status < 300;
