import { provisionForTest } from '../support/endpoints';
import { apiEvent, invoke } from '../support/api-events';
import { ENV } from '../../lambdas/settings/environment';

let submitHandler: unknown;
let contactsHandler: unknown;
let listHandler: unknown;
let cancelHandler: unknown;

beforeAll(async () => {
  await provisionForTest('guards');
  submitHandler = (await import('../../lambdas/handlers/submit-request')).handler;
  contactsHandler = (await import('../../lambdas/handlers/put-notification-contacts')).handler;
  listHandler = (await import('../../lambdas/handlers/list-requests')).handler;
  cancelHandler = (await import('../../lambdas/handlers/cancel-request')).handler;
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

/** How many requests a merchant has stored, as its list shows them. */
async function listed(merchantId: string): Promise<number> {
  const response = await invoke(listHandler, apiEvent({ method: 'GET', path: '/v1/requests', merchantId }));
  return (response.body!.items as unknown[]).length;
}

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

describe('premium-rate numbers', () => {
  // Each is in its country's premium-rate range (UK 09, North America 900, the ITU's +979).
  it.each(['+449098790000', '+19002345678', '+979123456789'])('refuses %s at submit even where every country is allowed', async (sms) => {
    const response = await withEnvironment({ [ENV.smsAllowedCountries]: '*' }, () => submit({ type: 'order.process', payload: order, notify: { sms } }));
    expect(response.status).toBe(400);
    expect(response.headers['Content-Type']).toBe('application/problem+json');
    expect(response.body!.errors).toEqual([{ path: '/notify/sms', message: 'premium-rate numbers cannot receive SMS notifications' }]);
  });

  it('refuses one as an operations contact, in a country the operator lists', async () => {
    const response = await withEnvironment({ [ENV.smsAllowedCountries]: 'GB' }, () =>
      invoke(contactsHandler, apiEvent({ method: 'PUT', path: '/v1/notifications', body: { sms: '+449098790000', events: ['request.failed'] }, merchantId: 'mer_guard' })),
    );
    expect(response.status).toBe(400);
    expect(response.body!.errors).toEqual([{ path: '/sms', message: 'premium-rate numbers cannot receive SMS notifications' }]);
  });

  it('still accepts a mobile number of the same country', async () => {
    const response = await withEnvironment({ [ENV.smsAllowedCountries]: 'GB' }, () => submit({ type: 'order.process', payload: order, notify: { sms: '+447400123456' } }));
    expect(response.status).toBe(202);
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

  it.each([
    ['durationMs', { durationMs: 25_000 }],
    ['unavailableUntil', { unavailableUntil: '2099-01-01T00:00:00Z' }],
    ['transientFailureRate', { transientFailureRate: 1 }],
    ['failFirstAttempts', { failFirstAttempts: 20 }],
    ['an empty block', {}],
  ])('leave order.process no fault switch while off: simulate with %s is a 400 naming simulate, storing nothing', async (_name, simulate) => {
    const before = await listed('mer_faults');
    const off = await withEnvironment({ [ENV.demoProcessors]: 'false' }, () => submit({ type: 'order.process', payload: { ...order, simulate } }, 'mer_faults'));
    expect(off.status).toBe(400);
    expect(off.headers['Content-Type']).toBe('application/problem+json');
    expect(off.body!.errors).toEqual([{ path: '/payload/simulate', message: 'simulate (fault switches) is accepted only where demo processors are on' }]);
    expect(await listed('mer_faults')).toBe(before);
  });

  it('leave order.process itself in service while off, and its fault switches to demos while on', async () => {
    const plain = await withEnvironment({ [ENV.demoProcessors]: 'false' }, () => submit({ type: 'order.process', payload: order }));
    expect(plain.status).toBe(202);
    const demo = await withEnvironment({ [ENV.demoProcessors]: 'true' }, () =>
      submit({ type: 'order.process', payload: { ...order, simulate: { failFirstAttempts: 1 } } }),
    );
    expect(demo.status).toBe(202);
  });
});

describe('per-merchant quotas', () => {
  const quotas = (inFlight: number, smsPerDay: number) => ({ [ENV.maxRequestsInFlight]: String(inFlight), [ENV.maxSmsPerDay]: String(smsPerDay) });

  it('answers 429 with Retry-After once a merchant has its limit of requests in flight, storing nothing, and admits again after one ends', async () => {
    await withEnvironment(quotas(2, 10), async () => {
      const first = await submit({ type: 'order.process', payload: order }, 'mer_busy');
      const second = await submit({ type: 'order.process', payload: order }, 'mer_busy');
      const third = await submit({ type: 'order.process', payload: order }, 'mer_busy');
      const elsewhere = await submit({ type: 'order.process', payload: order }, 'mer_calm');

      expect([first.status, second.status, elsewhere.status]).toEqual([202, 202, 202]);
      expect(third.status).toBe(429);
      expect(third.headers['Content-Type']).toBe('application/problem+json');
      expect(Number(third.headers['Retry-After'])).toBeGreaterThan(0);
      expect(third.body).toMatchObject({ type: 'https://herald.dev/problems/quota-exceeded', status: 429, quota: 'requests-in-flight', limit: 2 });
      const listed = await invoke(listHandler, apiEvent({ method: 'GET', path: '/v1/requests', merchantId: 'mer_busy' }));
      expect(listed.body!.items).toHaveLength(2);

      const id = first.body!.id as string;
      const cancelled = await invoke(
        cancelHandler,
        apiEvent({ method: 'POST', path: `/v1/requests/${id}/cancel`, routeKey: 'POST /v1/requests/{id}/cancel', pathParameters: { id }, merchantId: 'mer_busy' }),
      );
      expect(cancelled.status).toBe(200);
      expect((await submit({ type: 'order.process', payload: order }, 'mer_busy')).status).toBe(202);
    });
  });

  it('answers a replay of a request in flight with the original 202, keeping its one slot rather than giving it back', async () => {
    await withEnvironment(quotas(1, 10), async () => {
      const submitWithKey = (key: string) =>
        invoke(submitHandler, apiEvent({ method: 'POST', path: '/v1/requests', headers: { 'idempotency-key': key }, body: { type: 'order.process', payload: order }, merchantId: 'mer_replaying' }));
      const first = await submitWithKey('replayed-key');
      const replay = await submitWithKey('replayed-key');
      const other = await submitWithKey('another-key');

      expect([first.status, replay.status]).toEqual([202, 202]);
      expect(replay.body!.id).toBe(first.body!.id);
      expect(other.status).toBe(429);
    });
  });

  it('counts nothing while the in-flight quota is 0, so requests accepted then hold no slot once it is turned on', async () => {
    const earlier = await withEnvironment(quotas(0, 10), async () => {
      const answers = await Promise.all([1, 2, 3].map(() => submit({ type: 'order.process', payload: order }, 'mer_switching')));
      expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202]);
      return answers.map((answer) => answer.body!.id as string);
    });
    await withEnvironment(quotas(1, 10), async () => {
      const id = earlier[0]!;
      const cancelled = await invoke(
        cancelHandler,
        apiEvent({ method: 'POST', path: `/v1/requests/${id}/cancel`, routeKey: 'POST /v1/requests/{id}/cancel', pathParameters: { id }, merchantId: 'mer_switching' }),
      );
      expect(cancelled.status).toBe(200);
      // Three earlier requests still in flight, none of them counted: the first new one is admitted.
      expect((await submit({ type: 'order.process', payload: order }, 'mer_switching')).status).toBe(202);
      expect((await submit({ type: 'order.process', payload: order }, 'mer_switching')).status).toBe(429);
    });
  });

  it('answers 429 until midnight UTC once a merchant has sent its SMS of the day, and still takes requests without SMS', async () => {
    await withEnvironment({ ...quotas(100, 1), [ENV.smsAllowedCountries]: '*' }, async () => {
      const texted = await submit({ type: 'order.process', payload: order, notify: { sms: '+12025550123' } }, 'mer_chatty');
      const again = await submit({ type: 'order.process', payload: order, notify: { sms: '+12025550124' } }, 'mer_chatty');
      const silent = await submit({ type: 'order.process', payload: order }, 'mer_chatty');

      expect(texted.status).toBe(202);
      expect(again.status).toBe(429);
      expect(again.body).toMatchObject({ quota: 'sms-per-day', limit: 1, detail: expect.stringMatching(/its 1 SMS notifications of today/) });
      expect(Number(again.headers['Retry-After'])).toBeGreaterThan(0);
      expect(Number(again.headers['Retry-After'])).toBeLessThanOrEqual(86_400);
      expect(silent.status).toBe(202);
    });
  });
});
