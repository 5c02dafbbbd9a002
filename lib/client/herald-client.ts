/**
 * A typed client of the Herald API, for services that submit requests and receive its webhooks.
 * Its types are generated from docs/openapi.yaml (`npm run client:generate` writes
 * `schema.d.ts`, which a test holds equal to the description); openapi-fetch makes the calls.
 *
 *   const herald = createHeraldClient({ baseUrl: 'http://127.0.0.1:3000', apiKey });
 *   const { data, error } = await herald.POST('/v1/requests', {
 *     params: { header: { 'Idempotency-Key': 'order-1001' } },
 *     body: { type: 'demo.sleep', payload: { ms: 500 } },
 *   });
 *   // data: { id, status, statusUrl } on 202; error: the problem document otherwise
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components, paths, webhooks } from './schema';

export type { components, paths, webhooks };
export type HeraldClient = Client<paths>;

/** The body of each event Herald POSTs to a webhook endpoint, by event type. */
export type HeraldWebhookEvent =
  | components['schemas']['RequestSucceededEvent']
  | components['schemas']['RequestFailedEvent']
  | components['schemas']['WebhookTestEvent'];

export interface HeraldClientOptions {
  /** The API's base URL: the local runtime's, or the stack's `ApiUrl` output. */
  readonly baseUrl: string;
  readonly apiKey: string;
  /** Another fetch (a test's, a proxy's); the global one by default. */
  readonly fetch?: typeof globalThis.fetch;
}

/** A client whose every call carries the API key; paths, parameters, bodies and answers are typed. */
export function createHeraldClient(options: HeraldClientOptions): HeraldClient {
  return createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/$/, ''),
    headers: { authorization: `Bearer ${options.apiKey}` },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}
