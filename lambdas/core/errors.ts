/**
 * Herald's errors. Each has a stable `code` (also the last segment of its problem `type` URI)
 * and the HTTP status it maps to at the edge. Only `HeraldError`s are shown to clients; anything
 * else becomes a generic 500 so internal names and stack traces never leak.
 */
export class HeraldError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 500,
    options?: ErrorOptions & { title?: string; headers?: Record<string, string>; extensions?: Record<string, unknown> },
  ) {
    super(message, options);
    this.name = new.target.name;
    this.title = options?.title ?? titleFromCode(code);
    this.headers = options?.headers ?? {};
    this.extensions = options?.extensions ?? {};
  }
  readonly title: string;
  readonly headers: Record<string, string>;
  /** Extra members of the problem document (RFC 9457 extensions), e.g. a conflict's current status. */
  readonly extensions: Record<string, unknown>;
}

function titleFromCode(code: string): string {
  const words = code.replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export interface FieldError {
  /** JSON-pointer-like path to the offending field, e.g. `/notify/sms`; `/` for the body itself. */
  readonly path: string;
  readonly message: string;
}

export class ValidationError extends HeraldError {
  constructor(detail: string, readonly errors: readonly FieldError[] = []) {
    super('validation-failed', detail, 400, { title: 'Request validation failed' });
  }
}

export class MalformedJsonError extends HeraldError {
  constructor(detail: string) {
    super('malformed-json', detail, 400, { title: 'Malformed JSON body' });
  }
}

export class MissingIdempotencyKeyError extends HeraldError {
  constructor(detail: string) {
    super('idempotency-key-missing', detail, 400, { title: 'Idempotency-Key is missing or invalid' });
  }
}

export class UnknownRequestTypeError extends HeraldError {
  constructor(readonly requestType: string, known: readonly string[]) {
    super('unknown-request-type', `No processor is registered for type "${requestType}"; known types: ${known.join(', ')}`, 400);
  }
}

export class UnauthorizedError extends HeraldError {
  constructor(detail: string) {
    super('unauthorized', detail, 401, { headers: { 'WWW-Authenticate': 'Bearer realm="herald"' } });
  }
}

export class NotFoundError extends HeraldError {
  constructor(detail: string) {
    super('not-found', detail, 404);
  }
}

export class IdempotencyKeyReusedError extends HeraldError {
  constructor(readonly key: string) {
    super('idempotency-key-reused', `Idempotency-Key "${key}" was already used with a different request body`, 422, {
      title: 'Idempotency-Key reused with a different body',
    });
  }
}

export class IdempotencyKeyInFlightError extends HeraldError {
  constructor(readonly key: string) {
    super('idempotency-key-in-flight', `A request with Idempotency-Key "${key}" is still being stored; retry shortly`, 409, {
      headers: { 'Retry-After': '1' },
    });
  }
}

export class PayloadTooLargeError extends HeraldError {
  constructor(limitBytes: number, actualBytes: number) {
    super('payload-too-large', `The body is ${actualBytes} bytes; the limit is ${limitBytes} bytes`, 413);
  }
}

export class ServiceUnavailableError extends HeraldError {
  constructor(detail: string, retryAfterSeconds: number, options?: ErrorOptions) {
    super('service-unavailable', detail, 503, { ...options, headers: { 'Retry-After': String(retryAfterSeconds) } });
  }
}

/** A state transition lost its condition: someone else changed the item first. */
export class ConflictError extends HeraldError {
  constructor(detail: string, readonly currentStatus?: string) {
    super('conflict', detail, 409);
  }
}

/** Only a request still waiting (`accepted`) can be cancelled; the problem carries the status it has now. */
export class RequestNotCancellableError extends HeraldError {
  constructor(readonly requestId: string, readonly currentStatus: string) {
    super('request-not-cancellable', `Request ${requestId} is ${currentStatus}; only an accepted request can be cancelled`, 409, {
      title: 'Request can no longer be cancelled',
      extensions: { currentStatus },
    });
  }
}
