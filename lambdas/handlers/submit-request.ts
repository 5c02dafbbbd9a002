import { defaults } from '../settings/requests';
import { awaitRequestStatus } from '../core/requests/await-request-status';
import { submitRequest } from '../core/requests/submit-request';
import { MAX_BODY_BYTES } from '../core/requests/submission';
import { preferenceApplied } from '../core/requests/wait-preference';
import { callbackSecretStore, merchantQuotas, processors, requestQueue, requestPorts, settings, ssrfGuard } from './shared/dependencies';
import { headerOf, httpRoute, jsonBodyOf, json, merchantIdOf } from './shared/http';
import { countMetric, logger, logRequestOutcome, METRIC } from './shared/observability';
import { statusUrlOf } from './shared/status-url';
import { awaitDependencies, newCallId, waitPreferenceOf } from './shared/waiting';

/**
 * POST /v1/requests: accept a request once per idempotency key, answer 202 at once, or, with
 * `Prefer: respond-async, wait=N`, 200 with the finished request when it ends within N seconds.
 */
export const handler = httpRoute(async (event, { traceId }) => {
  const merchantId = merchantIdOf(event);
  // X-Request-ID stands in for a missing Idempotency-Key (DESIGN.md section 5, docs/security.md),
  // never silently: the answer names the header the key was taken from.
  const keySource = headerOf(event, 'idempotency-key') !== undefined ? 'Idempotency-Key' : headerOf(event, 'x-request-id') !== undefined ? 'X-Request-ID' : undefined;
  const idempotencyKey = keySource ? headerOf(event, keySource) : undefined;
  const preference = waitPreferenceOf(event);
  const accepted = await submitRequest(
    {
      store: requestPorts().intake,
      queue: requestQueue(),
      processorFor: processors().processorFor,
      knownTypes: processors().registeredTypes,
      requestIdKey: settings.requestIdKey(),
      smsCountries: settings.smsCountries(),
      quotas: merchantQuotas(),
      callbacks: { checkUrl: (url) => ssrfGuard().check(url), hasSecret: (id) => callbackSecretStore().exists(id) },
      statusUrlOf,
    },
    { merchantId, idempotencyKey, body: jsonBodyOf(event, MAX_BODY_BYTES), traceId },
  );
  // A replay is the same request answered again: counting it would inflate intake on client retries.
  if (!accepted.replayed) countMetric(METRIC.requestsAccepted);
  // Carries the trace id like every line of this invocation (httpRoute appends it to the logger),
  // and the count just made, so the request costs one line.
  logRequestOutcome(logger, accepted.replayed ? 'Request replayed' : 'Request accepted', { requestId: accepted.id, merchantId });
  const location = `/v1/requests/${accepted.id}`;
  const replayed: Record<string, string> = {
    ...(accepted.replayed ? { 'Idempotent-Replayed': 'true' } : {}),
    ...(keySource ? { 'Idempotency-Key-Source': keySource } : {}),
  };

  if (preference.waitSeconds > 0) {
    const status = await awaitRequestStatus(awaitDependencies(), {
      merchantId,
      id: accepted.id,
      waitSeconds: preference.waitSeconds,
      until: 'terminal',
      callId: newCallId(),
    });
    if (!status.notModified && status.retryAfterSeconds === undefined) {
      const applied = preferenceApplied({ waitSeconds: preference.waitSeconds });
      return json(200, status.view, { Location: location, ETag: status.etag, Vary: 'Prefer', ...(applied ? { 'Preference-Applied': applied } : {}), ...replayed });
    }
    const applied = preferenceApplied({ respondAsync: preference.respondAsync, waitSeconds: status.waited ? preference.waitSeconds : 0 });
    return json(202, { ...accepted.body, statusUrl: accepted.statusUrl }, {
      Location: location,
      'Retry-After': String(status.retryAfterSeconds ?? accepted.expectedSeconds ?? defaults.retryAfterSeconds),
      Vary: 'Prefer',
      ...(applied ? { 'Preference-Applied': applied } : {}),
      ...replayed,
    });
  }

  return json(202, { ...accepted.body, statusUrl: accepted.statusUrl }, {
    Location: location,
    'Retry-After': String(accepted.expectedSeconds ?? defaults.retryAfterSeconds),
    ...(preference.respondAsync ? { 'Preference-Applied': 'respond-async' } : {}),
    ...replayed,
  });
});
