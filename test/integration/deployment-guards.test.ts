import { provisionForTest } from '../support/endpoints';
import { apiEvent, invoke } from '../support/api-events';
import { ENV } from '../../lib/topology';

let submitHandler: unknown;
let contactsHandler: unknown;

beforeAll(async () => {
  await provisionForTest('guards');
  submitHandler = (await import('../../lambdas/handlers/submit-request')).handler;
  contactsHandler = (await import('../../lambdas/handlers/put-notification-contacts')).handler;
});

/** Runs `body` with environment variables set as a deployment would set them, then restores them. */
async function withEnvironment<T>(variables: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]));
  Object.assign(process.env, variables);
  try {
    return await body();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

let keys = 0;
const submit = (body: object, merchantId = 'mer_guard') =>
  invoke(submitHandler, apiEvent({ method: 'POST', path: '/v1/requests', headers: { 'idempotency-key': `guard-${++keys}` }, body, merchantId }));

const order = { orderId: 'o-1', currency: 'EUR', items: [{ sku: 'tea', quantity: 1, unitPriceCents: 100 }] };

describe('SMS countries', () => {
  it('refuses at submit an SMS to a country the operator did not list, with a 400 problem naming the field', async () => {
    const response = await withEnvironment({ [ENV.smsAllowedCountries]: 'US,CA' }, () =>
      submit({ type: 'order.process', payload: order, notify: { sms: '+447911123456' } }),
    );

    expect(response.status).toBe(400);
    expect(response.headers['Content-Type']).toBe('application/problem+json');
    expect(response.body!.errors).toEqual([{ path: '/notify/sms', message: 'SMS to country GG are not enabled; SMS go only to CA, US' }]);
  });

  it('accepts an SMS to a listed country', async () => {
    const response = await withEnvironment({ [ENV.smsAllowedCountries]: 'US,CA' }, () =>
      submit({ type: 'order.process', payload: order, notify: { sms: '+12025550123' } }),
    );
    expect(response.status).toBe(202);
  });

  it('refuses a number shared by several countries when only some are listed', async () => {
    const response = await withEnvironment({ [ENV.smsAllowedCountries]: 'US' }, () =>
      submit({ type: 'order.process', payload: order, notify: { sms: '+15555550100' } }),
    );
    expect(response.status).toBe(400);
    expect(response.body!.errors[0].message).toMatch(/country cannot be determined/);
  });

  it('refuses every SMS when no country is listed, as a deployment does by default', async () => {
    const response = await withEnvironment({ [ENV.smsAllowedCountries]: '' }, () =>
      submit({ type: 'order.process', payload: order, notify: { sms: '+12025550123' } }),
    );
    expect(response.status).toBe(400);
    expect(response.body!.errors).toEqual([{ path: '/notify/sms', message: 'SMS notifications are not enabled in this deployment' }]);
  });

  it('refuses an operations contact by SMS in a country not listed', async () => {
    const response = await withEnvironment({ [ENV.smsAllowedCountries]: 'DE' }, () =>
      invoke(contactsHandler, apiEvent({ method: 'PUT', path: '/v1/notifications', body: { sms: '+33612345678', events: [] }, merchantId: 'mer_guard' })),
    );
    expect(response.status).toBe(400);
    expect(response.body!.errors).toEqual([{ path: '/sms', message: 'SMS to country FR are not enabled; SMS go only to DE' }]);
  });
});

describe('demo processors', () => {
  it('are unknown types at submit unless the deployment turns them on', async () => {
    const off = await withEnvironment({ [ENV.demoProcessors]: 'false' }, () => submit({ type: 'demo.sleep', payload: { ms: 1 } }));
    expect(off.status).toBe(400);
    expect(off.body!.detail).toBe('No processor is registered for type "demo.sleep"; known types: order.process, wallet.debit');

    const on = await withEnvironment({ [ENV.demoProcessors]: 'true' }, () => submit({ type: 'demo.sleep', payload: { ms: 1 } }));
    expect(on.status).toBe(202);
  });
});
