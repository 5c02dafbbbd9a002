import { webhookDefaults } from '../settings/webhooks';
import { NotFoundError } from '../core/shared/errors';
import { webhookEndpoints as use, type ManageWebhooksDependencies } from '../core/webhooks/manage-webhooks';
import { testFilter } from '../core/webhooks/webhook-filter';
import { callbackSecret, type CallbackSecretDependencies } from '../core/webhooks/callback-secret';
import {
  callbackSecretStore,
  deliveryQueue,
  deliveryStore,
  requestPorts,
  settings,
  ssrfGuard,
  USER_AGENT,
  webhookEndpointStore,
  webhookTransport,
} from './shared/dependencies';
import { empty, httpRoute, json, jsonBodyOf, merchantIdOf, type HttpEvent } from './shared/http';
import type { HttpResult } from './shared/problems';

const MAX_BODY_BYTES = 16 * 1024;
/** A filter test carries a sample event, which may hold a whole result: more room than an endpoint's settings. */
const MAX_FILTER_TEST_BYTES = 64 * 1024;
const LIST_LIMIT = 100;

type Route = (deps: ManageWebhooksDependencies, merchantId: string, event: HttpEvent, traceId: string) => Promise<HttpResult>;

const id = (event: HttpEvent) => event.pathParameters?.id ?? '';
const body = (event: HttpEvent) => jsonBodyOf(event, MAX_BODY_BYTES);
const limitOf = (event: HttpEvent) => Math.min(Math.max(Number(event.queryStringParameters?.limit ?? LIST_LIMIT) || LIST_LIMIT, 1), LIST_LIMIT);

/** Every /v1/webhooks*, /v1/deliveries* and /v1/callback-secret* route, by API Gateway route key. */
const routes: Record<string, Route> = {
  'POST /v1/webhooks': async (deps, merchantId, event) => {
    const endpoint = await use.create(deps, merchantId, body(event));
    return json(201, endpoint, { Location: `/v1/webhooks/${endpoint.id}` });
  },
  'GET /v1/webhooks': async (deps, merchantId) => json(200, { data: await use.list(deps, merchantId) }),
  'POST /v1/webhooks/filter-test': async (_deps, _merchantId, event) => json(200, testFilter(jsonBodyOf(event, MAX_FILTER_TEST_BYTES))),
  'GET /v1/webhooks/{id}': async (deps, merchantId, event) => json(200, await use.get(deps, merchantId, id(event))),
  'PATCH /v1/webhooks/{id}': async (deps, merchantId, event) => json(200, await use.update(deps, merchantId, id(event), body(event))),
  'DELETE /v1/webhooks/{id}': async (deps, merchantId, event) => {
    await use.remove(deps, merchantId, id(event));
    return empty(204);
  },
  'POST /v1/webhooks/{id}/rotate-secret': async (deps, merchantId, event) => json(200, await use.rotateSecret(deps, merchantId, id(event))),
  'POST /v1/webhooks/{id}/test': async (deps, merchantId, event, traceId) => json(200, await use.sendTest(deps, merchantId, id(event), traceId)),
  'GET /v1/webhooks/{id}/deliveries': async (deps, merchantId, event) =>
    json(200, { data: await use.deliveriesOfEndpoint(deps, merchantId, id(event), limitOf(event)) }),
  'POST /v1/webhooks/{id}/recover': async (deps, merchantId, event) => json(202, await use.recover(deps, merchantId, id(event), body(event))),
  'GET /v1/requests/{id}/deliveries': async (deps, merchantId, event) =>
    json(200, { data: await use.deliveriesOfRequest(deps, merchantId, id(event)) }),
  'POST /v1/deliveries/{id}/retry': async (deps, merchantId, event) => json(202, await use.retryDelivery(deps, merchantId, id(event))),
  'GET /v1/callback-secret': async (_deps, merchantId) => {
    const shown = await callbackSecret.show(callbackSecretDependencies(), merchantId);
    return json(shown.created ? 201 : 200, shown.view);
  },
  'POST /v1/callback-secret/rotate': async (_deps, merchantId) => json(200, await callbackSecret.rotate(callbackSecretDependencies(), merchantId)),
};

function callbackSecretDependencies(): CallbackSecretDependencies {
  return { secrets: callbackSecretStore(), previousSecretHours: webhookDefaults.previousSecretHours };
}

/** Public routes, answered without an API key. */
const publicRoutes: Record<string, (deps: ManageWebhooksDependencies, event: HttpEvent) => Promise<HttpResult>> = {
  // Keys change only on rotation, and an old one stays valid for a day: a short cache spares the table.
  'GET /v1/webhook-keys/{merchantId}': async (deps, event) =>
    json(200, await use.publicKeys(deps, event.pathParameters?.merchantId ?? ''), { 'Cache-Control': 'public, max-age=300' }),
};

/** The merchant's webhook API: endpoints, secrets, test events, delivery logs, retries and recovery. */
export const handler = httpRoute(async (event, { traceId }) => {
  const publicRoute = publicRoutes[event.routeKey];
  if (publicRoute) return publicRoute(dependencies(), event);
  const merchantId = merchantIdOf(event);
  const route = routes[event.routeKey];
  if (!route) throw new NotFoundError(`No route ${event.routeKey}`);
  const result = await route(dependencies(), merchantId, event, traceId);
  // Some answers carry a signing secret and all are one merchant's live state: no cache may keep them.
  result.headers['Cache-Control'] = 'no-store';
  return result;
});

function dependencies(): ManageWebhooksDependencies {
  const guard = ssrfGuard();
  return {
    endpoints: webhookEndpointStore(),
    deliveries: deliveryStore(),
    queue: deliveryQueue(),
    transport: webhookTransport(),
    userAgent: USER_AGENT,
    checkUrl: (url) => guard.check(url),
    loadRequest: (merchantId, requestId) => requestPorts().queries.getForMerchant(merchantId, requestId),
    limits: {
      maxEndpointsPerMerchant: webhookDefaults.maxEndpointsPerMerchant,
      previousSecretHours: webhookDefaults.previousSecretHours,
      // Deliveries expire requestRetentionDays after their last outcome: a window past that would find fewer than it promises.
      recoverMaxDays: Math.min(webhookDefaults.recoverMaxDays, settings.requestRetentionDays()),
    },
  };
}
