import {
  ConflictError,
  HeraldError,
  IdempotencyKeyReusedError,
  MalformedJsonError,
  MissingIdempotencyKeyError,
  NotFoundError,
  PayloadTooLargeError,
  RequestNotCancellableError,
  ServiceUnavailableError,
  UnauthorizedError,
  UnknownRequestTypeError,
  ValidationError,
} from '../../../lambdas/core/shared/errors';
import { EndpointLimitReachedError } from '../../../lambdas/core/webhooks/manage-webhooks';
import { NotificationRejectedError, SubscriptionGoneError } from '../../../lambdas/core/notifications/notification-errors';
import { CompensatedError, PermanentError, RetryableError } from '../../../lambdas/core/requests/processor';
import { UnsafeWebhookUrlError } from '../../../lambdas/core/webhooks/webhook-url';
import { PROBLEMS, problemResponse } from '../../../lambdas/handlers/shared/problems';

const clientFacing: readonly HeraldError[] = [
  new ValidationError('bad', [{ path: '/type', message: 'Required' }]),
  new MalformedJsonError('not json'),
  new MissingIdempotencyKeyError('no key'),
  new UnknownRequestTypeError('x', ['demo.echo']),
  new UnsafeWebhookUrlError('https-required', 'only https'),
  new UnauthorizedError('no key'),
  new NotFoundError('nothing'),
  new ConflictError('lost'),
  new RequestNotCancellableError('req_1', 'processing', 1),
  new EndpointLimitReachedError(10),
  new PayloadTooLargeError(10, 20),
  new IdempotencyKeyReusedError('k'),
  new NotificationRejectedError('refused'),
  new ServiceUnavailableError('later', 7),
];

function bodyOf(result: { body?: string }): Record<string, unknown> {
  return JSON.parse(result.body ?? '{}') as Record<string, unknown>;
}

describe('core errors', () => {
  it.each(clientFacing.map((error) => [error.constructor.name, error] as const))('%s carries a code and its data, no HTTP status, title or headers', (_, error) => {
    expect(error.code).toMatch(/^[a-z]+(-[a-z]+)*$/);
    for (const httpOnly of ['status', 'title', 'headers', 'extensions']) expect(error).not.toHaveProperty(httpOnly);
  });

  it.each(clientFacing.map((error) => [error.constructor.name, error] as const))('%s names itself with a literal of its own', (className, error) => {
    expect(error.name).toBe(className);
    expect(Object.getOwnPropertyDescriptor(error, 'name')?.value).toBe(className);
  });

  it.each([
    ['RetryableError', new RetryableError('later')],
    ['PermanentError', new PermanentError('never')],
    ['CompensatedError', new CompensatedError('undone', 'step_refused')],
  ])('the processor outcome %s names itself with a literal of its own', (className, error) => {
    expect(Object.getOwnPropertyDescriptor(error, 'name')?.value).toBe(className);
  });

  it('keeps the subscription-gone signal out of the client-facing errors', () => {
    const signal = new SubscriptionGoneError('arn:aws:sns:us-east-1:000000000000:t:1');
    expect(signal).not.toBeInstanceOf(HeraldError);
    expect(signal.name).toBe('SubscriptionGoneError');
  });
});

describe('the problem table at the edge', () => {
  it('has a row for the code of every client-facing error', () => {
    const missing = clientFacing.filter((error) => !PROBLEMS[error.code]).map((error) => error.code);
    expect(missing).toEqual([]);
  });

  it('answers a validation error with 400 and the offending field paths', () => {
    const result = problemResponse(new ValidationError('The body is invalid: /type', [{ path: '/type', message: 'Required' }]), '/v1/requests');
    expect(result.statusCode).toBe(400);
    expect(result.headers['Content-Type']).toBe('application/problem+json');
    expect(bodyOf(result)).toEqual({
      type: 'https://herald.dev/problems/validation-failed',
      title: 'Request validation failed',
      status: 400,
      detail: 'The body is invalid: /type',
      instance: '/v1/requests',
      errors: [{ path: '/type', message: 'Required' }],
    });
  });

  it('takes Retry-After from the error data of a service-unavailable error', () => {
    const result = problemResponse(new ServiceUnavailableError('The queue is unavailable', 7));
    expect([result.statusCode, result.headers['Retry-After']]).toEqual([503, '7']);
  });

  it('challenges an unauthorized client for a Bearer key', () => {
    const result = problemResponse(new UnauthorizedError('The API key is unknown or has been revoked'));
    expect([result.statusCode, result.headers['WWW-Authenticate']]).toEqual([401, 'Bearer realm="herald"']);
  });

  it('adds the current status and attempts of a request that can no longer be cancelled', () => {
    const result = problemResponse(new RequestNotCancellableError('req_1', 'processing', 1));
    expect(result.statusCode).toBe(409);
    expect(bodyOf(result)).toMatchObject({ title: 'Request can no longer be cancelled', currentStatus: 'processing', attempts: 1 });
  });

  it('hides a Herald error whose code has no row behind a generic 500', () => {
    const result = problemResponse(new HeraldError('not-in-the-table', 'internal detail'));
    expect(result.statusCode).toBe(500);
    expect(bodyOf(result)).toMatchObject({ type: 'https://herald.dev/problems/internal-error' });
    expect(result.body).not.toContain('internal detail');
  });

  it('hides any other error behind a generic 500', () => {
    const result = problemResponse(new TypeError('cannot read properties of undefined'));
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('undefined');
  });
});
