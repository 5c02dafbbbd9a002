/**
 * Herald's client-facing errors. Each carries a stable `code` (also the last segment of its
 * problem `type` URI), a message and the data that explains it, and nothing about HTTP: the edge
 * (`handlers/shared/http.ts`) maps a code to a status, a title and headers, so a use case can be
 * reused by a worker or the CLI without dragging a status line along. Anything that is not a
 * `HeraldError` becomes a generic 500 there, so internal names and stack traces never leak.
 *
 * Every class names itself with a literal: the bundler minifies class names, and a `name` taken
 * from the constructor would read as a single letter in the logs of a deployed function.
 */
export class HeraldError extends Error {
  override readonly name: string = 'HeraldError';

  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface FieldError {
  /** JSON-pointer-like path to the offending field, e.g. `/notify/sms`; `/` for the body itself. */
  readonly path: string;
  readonly message: string;
}

export class ValidationError extends HeraldError {
  override readonly name = 'ValidationError';

  constructor(
    detail: string,
    readonly errors: readonly FieldError[] = [],
  ) {
    super('validation-failed', detail);
  }
}

export class MalformedJsonError extends HeraldError {
  override readonly name = 'MalformedJsonError';

  constructor(detail: string) {
    super('malformed-json', detail);
  }
}

export class MissingIdempotencyKeyError extends HeraldError {
  override readonly name = 'MissingIdempotencyKeyError';

  constructor(detail: string) {
    super('idempotency-key-missing', detail);
  }
}

export class UnknownRequestTypeError extends HeraldError {
  override readonly name = 'UnknownRequestTypeError';

  constructor(
    readonly requestType: string,
    readonly knownTypes: readonly string[],
  ) {
    super('unknown-request-type', `No processor is registered for type "${requestType}"; known types: ${knownTypes.join(', ')}`);
  }
}

export class UnauthorizedError extends HeraldError {
  override readonly name = 'UnauthorizedError';

  constructor(detail: string) {
    super('unauthorized', detail);
  }
}

export class NotFoundError extends HeraldError {
  override readonly name = 'NotFoundError';

  constructor(detail: string) {
    super('not-found', detail);
  }
}

export class IdempotencyKeyReusedError extends HeraldError {
  override readonly name = 'IdempotencyKeyReusedError';

  constructor(readonly key: string) {
    super('idempotency-key-reused', `Idempotency-Key "${key}" was already used with a different request body`);
  }
}


export class PayloadTooLargeError extends HeraldError {
  override readonly name = 'PayloadTooLargeError';

  constructor(
    readonly limitBytes: number,
    readonly actualBytes: number,
  ) {
    super('payload-too-large', `The body is ${actualBytes} bytes; the limit is ${limitBytes} bytes`);
  }
}

/** Every event stream slot of the merchant is held by an open stream. */
export class StreamLimitReachedError extends HeraldError {
  override readonly name = 'StreamLimitReachedError';

  constructor(
    readonly limit: number,
    readonly retryAfterSeconds: number,
  ) {
    super('stream-limit-reached', `This merchant already has ${limit} open event streams, the most it may hold; close one or poll GET /v1/requests/{id}`);
  }
}

export class ServiceUnavailableError extends HeraldError {
  override readonly name = 'ServiceUnavailableError';

  constructor(
    detail: string,
    readonly retryAfterSeconds: number,
    options?: ErrorOptions,
  ) {
    super('service-unavailable', detail, options);
  }
}

/** A state transition lost its condition: someone else changed the item first. */
export class ConflictError extends HeraldError {
  override readonly name = 'ConflictError';

  constructor(
    detail: string,
    readonly currentStatus?: string,
  ) {
    super('conflict', detail);
  }
}

/**
 * Only a request no attempt has started on can be cancelled; the error carries the status it has
 * now and how many attempts started, so a client can tell a finished request from a started one.
 */
export class RequestNotCancellableError extends HeraldError {
  override readonly name = 'RequestNotCancellableError';

  constructor(
    readonly requestId: string,
    readonly currentStatus: string,
    readonly attempts: number,
  ) {
    super(
      'request-not-cancellable',
      currentStatus === 'accepted'
        ? `Request ${requestId} is accepted but an attempt has already started (${attempts} in this round); only a request no attempt has started on can be cancelled`
        : `Request ${requestId} is ${currentStatus}; only a request no attempt has started on can be cancelled`,
    );
  }
}

/** A body in a format other than JSON (`Content-Type` names another media type). */
export class UnsupportedMediaTypeError extends HeraldError {
  override readonly name = 'UnsupportedMediaTypeError';

  constructor(readonly mediaType: string) {
    super('unsupported-media-type', `The body is sent as ${mediaType}; send it as application/json`);
  }
}
