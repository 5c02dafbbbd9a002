import { defaults } from '../../lib/topology';
import { submitRequest } from '../core/submit-request';
import { MAX_BODY_BYTES } from '../core/submission';
import { merchantQuotas, processors, requestQueue, requestStore, settings } from './shared/dependencies';
import { headerOf, httpRoute, jsonBodyOf, json, merchantIdOf } from './shared/http';
import { countMetric, logger, METRIC } from './shared/observability';
import { statusUrlOf } from './shared/status-url';

/** POST /v1/requests: accept a request once per idempotency key, answer 202 at once. */
export const handler = httpRoute(async (event, { traceId }) => {
  const merchantId = merchantIdOf(event);
  // X-Request-ID stands in for a missing Idempotency-Key (DESIGN.md section 5, docs/security.md),
  // never silently: the 202 names the header the key was taken from.
  const keySource = headerOf(event, 'idempotency-key') !== undefined ? 'Idempotency-Key' : headerOf(event, 'x-request-id') !== undefined ? 'X-Request-ID' : undefined;
  const idempotencyKey = keySource ? headerOf(event, keySource) : undefined;
  const accepted = await submitRequest(
    {
      store: requestStore(),
      queue: requestQueue(),
      processorFor: processors().processorFor,
      knownTypes: processors().registeredTypes,
      requestIdKey: settings.requestIdKey(),
      smsCountries: settings.smsCountries(),
      quotas: merchantQuotas(),
    },
    { merchantId, idempotencyKey, body: jsonBodyOf(event, MAX_BODY_BYTES), traceId },
  );
  // Carries the trace id like every line of this invocation (httpRoute appends it to the logger).
  logger.info(accepted.replayed ? 'Request replayed' : 'Request accepted', { requestId: accepted.id, merchantId });
  // A replay is the same request answered again: counting it would inflate intake on client retries.
  if (!accepted.replayed) countMetric(METRIC.requestsAccepted);
  return json(202, { ...accepted.body, statusUrl: await statusUrlOf(accepted.id) }, {
    Location: `/v1/requests/${accepted.id}`,
    'Retry-After': String(accepted.expectedSeconds ?? defaults.retryAfterSeconds),
    ...(accepted.replayed ? { 'Idempotent-Replayed': 'true' } : {}),
    ...(keySource ? { 'Idempotency-Key-Source': keySource } : {}),
  });
});
