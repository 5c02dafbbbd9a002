import type { ResolvedAddress } from '../../lambdas/adapters/ssrf-guard';
import { useResolver } from '../../lambdas/handlers/shared/dependencies';
import { ENV } from '../../lambdas/settings/environment';
import { webhookDefaults } from '../../lambdas/settings/webhooks';
import { apiEvent, invoke } from '../support/api-events';
import { provisionForTest } from '../support/endpoints';

/** Pretend DNS, so that registration can be tested offline and hostile names resolve where an attacker wants. */
const DNS: Record<string, ResolvedAddress[]> = {
  'hooks.example.com': [{ address: '93.184.216.34', family: 4 }],
  'v6.example.com': [{ address: '2606:4700::1111', family: 6 }],
  localhost: [{ address: '127.0.0.1', family: 4 }],
  'loopback.example.com': [{ address: '127.0.0.1', family: 4 }],
  'metadata.example.com': [{ address: '169.254.169.254', family: 4 }],
  'mixed.example.com': [
    { address: '93.184.216.34', family: 4 },
    { address: '10.1.2.3', family: 4 },
  ],
  'ula.example.com': [{ address: 'fd00::1', family: 6 }],
  'mapped.example.com': [{ address: '::ffff:10.0.0.1', family: 6 }],
  'compat.example.com': [{ address: '::7f00:1', family: 6 }],
};

let handler: unknown;

beforeAll(async () => {
  await provisionForTest('webhook-api');
  process.env[ENV.allowedWebhookHosts] = '';
  useResolver(async (host) => {
    const found = DNS[host];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found;
  });
  handler = (await import('../../lambdas/handlers/webhooks-api')).handler;
});

afterAll(() => useResolver(undefined));

const call = (
  merchantId: string,
  method: string,
  path: string,
  options: { routePath?: string; id?: string; body?: unknown } = {},
) =>
  invoke(
    handler,
    apiEvent({
      method,
      path,
      routeKey: `${method} ${options.routePath ?? path}`,
      ...(options.id ? { pathParameters: { id: options.id } } : {}),
      ...(options.body !== undefined ? { body: options.body as object } : {}),
      merchantId,
    }),
  );

const create = (merchantId: string, body: unknown) => call(merchantId, 'POST', '/v1/webhooks', { body });
const onEndpoint = (merchantId: string, method: string, id: string, suffix = '', body?: unknown) =>
  call(merchantId, method, `/v1/webhooks/${id}${suffix}`, { routePath: `/v1/webhooks/{id}${suffix}`, id, body });

describe('POST /v1/webhooks', () => {
  it('registers an endpoint and shows its whsec_ secret only in that answer', async () => {
    const created = await create('mer_reg', { url: 'https://hooks.example.com/herald', description: 'orders', eventTypes: ['request.failed'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: expect.stringMatching(/^ep_/),
      url: 'https://hooks.example.com/herald',
      description: 'orders',
      eventTypes: ['request.failed'],
      disabled: false,
    });
    expect(Buffer.from(created.body!.secret.replace(/^whsec_/, ''), 'base64')).toHaveLength(32);
    expect(created.headers.Location).toBe(`/v1/webhooks/${created.body!.id}`);

    const read = await onEndpoint('mer_reg', 'GET', created.body!.id);
    expect(read.status).toBe(200);
    expect(read.body!.secret).toBeUndefined();
    const listed = await call('mer_reg', 'GET', '/v1/webhooks');
    expect(listed.body!.data.map((e: { id: string }) => e.id)).toContain(created.body!.id);
    expect(JSON.stringify(listed.body)).not.toContain('whsec_');
  });

  it('accepts an IPv6-only public host', async () => {
    expect((await create('mer_reg', { url: 'https://v6.example.com/hook' })).status).toBe(201);
  });

  it('refuses unknown event types and unknown fields with the field named', async () => {
    const response = await create('mer_reg', { url: 'https://hooks.example.com/x', eventTypes: ['request.exploded'], colour: 'red' });
    expect(response.status).toBe(400);
    expect(response.body!.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['/eventTypes/0', '/colour']));
  });

  it(`refuses a ${webhookDefaults.maxEndpointsPerMerchant + 1}st endpoint with 409, and accepts one again after a delete`, async () => {
    const merchant = 'mer_limit';
    const ids: string[] = [];
    for (let i = 0; i < webhookDefaults.maxEndpointsPerMerchant; i++) {
      const created = await create(merchant, { url: `https://hooks.example.com/${i}` });
      expect(created.status).toBe(201);
      ids.push(created.body!.id);
    }
    const over = await create(merchant, { url: 'https://hooks.example.com/over' });
    expect(over.status).toBe(409);
    expect(over.body!.type).toMatch(/endpoint-limit-reached$/);

    expect((await onEndpoint(merchant, 'DELETE', ids[0]!)).status).toBe(204);
    expect((await create(merchant, { url: 'https://hooks.example.com/again' })).status).toBe(201);
  });
});

describe('PATCH, rotate-secret and DELETE', () => {
  it('changes url, description, filter and disabled, re-checking a new URL', async () => {
    const { body } = await create('mer_patch', { url: 'https://hooks.example.com/a' });
    const patched = await onEndpoint('mer_patch', 'PATCH', body!.id, '', {
      url: 'https://hooks.example.com/b',
      description: 'new',
      eventTypes: ['request.succeeded'],
      disabled: true,
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ url: 'https://hooks.example.com/b', description: 'new', eventTypes: ['request.succeeded'], disabled: true });

    const unsafe = await onEndpoint('mer_patch', 'PATCH', body!.id, '', { url: 'https://169.254.169.254/' });
    expect(unsafe.status).toBe(400);
    expect(unsafe.body!.detail).toMatch(/non-public-address/);

    const cleared = await onEndpoint('mer_patch', 'PATCH', body!.id, '', { eventTypes: null, description: null, disabled: false });
    expect(cleared.body).toMatchObject({ eventTypes: ['request.succeeded', 'request.failed'], disabled: false });
    expect(cleared.body!.description).toBeUndefined();
  });

  it('rotates the secret: a new one, shown once, with the old one kept for 24 hours', async () => {
    const { body } = await create('mer_rotate', { url: 'https://hooks.example.com/r' });
    const rotated = await onEndpoint('mer_rotate', 'POST', body!.id, '/rotate-secret');
    expect(rotated.status).toBe(200);
    expect(rotated.body!.secret).toMatch(/^whsec_/);
    expect(rotated.body!.secret).not.toBe(body!.secret);
    const hours = (Date.parse(rotated.body!.previousSecretExpiresAt) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(23.9);
    expect(hours).toBeLessThanOrEqual(24);
  });

  it('deletes an endpoint: then it is a 404', async () => {
    const { body } = await create('mer_delete', { url: 'https://hooks.example.com/d' });
    expect((await onEndpoint('mer_delete', 'DELETE', body!.id)).status).toBe(204);
    expect((await onEndpoint('mer_delete', 'GET', body!.id)).status).toBe(404);
    expect((await onEndpoint('mer_delete', 'DELETE', body!.id)).status).toBe(404);
  });
});

describe('tenant isolation', () => {
  let endpointId: string;
  beforeAll(async () => {
    endpointId = (await create('mer_owner', { url: 'https://hooks.example.com/owner' })).body!.id;
  });

  it.each([
    // Every row has three cells: with fewer, jest would take the third parameter for a done callback.
    ['GET', '', undefined],
    ['PATCH', '', { description: 'mine now' }],
    ['DELETE', '', undefined],
    ['POST', '/rotate-secret', undefined],
    ['POST', '/test', undefined],
    ['GET', '/deliveries', undefined],
    ['POST', '/recover', { since: new Date(Date.now() - 60_000).toISOString() }],
  ] as [string, string, unknown][])("answers 404 to another merchant's %s /v1/webhooks/{id}%s", async (method, suffix, body) => {
    const foreign = await onEndpoint('mer_intruder', method, endpointId, suffix, body);
    const unknown = await onEndpoint('mer_intruder', method, 'ep_00000000000000000000000000', suffix, body);
    expect(foreign.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(foreign.body).toEqual({ ...unknown.body, detail: expect.any(String), instance: expect.any(String) });
  });

  it('leaves the endpoint untouched by those attempts', async () => {
    const own = await onEndpoint('mer_owner', 'GET', endpointId);
    expect(own.status).toBe(200);
    expect(own.body!.description).toBeUndefined();
    const list = await call('mer_intruder', 'GET', '/v1/webhooks');
    expect(list.body!.data).toEqual([]);
  });

  it("answers 404 to another merchant's delivery retry and request deliveries", async () => {
    const retry = await call('mer_intruder', 'POST', `/v1/deliveries/dlv_req_x.${endpointId}.succeeded/retry`, {
      routePath: '/v1/deliveries/{id}/retry',
      id: `dlv_req_x.${endpointId}.succeeded`,
    });
    expect(retry.status).toBe(404);
    const deliveries = await call('mer_intruder', 'GET', '/v1/requests/req_x/deliveries', { routePath: '/v1/requests/{id}/deliveries', id: 'req_x' });
    expect(deliveries.status).toBe(404);
  });

  it('answers 401 without a merchant', async () => {
    const response = await invoke(handler, apiEvent({ method: 'GET', path: '/v1/webhooks', authError: 'The API key is unknown or has been revoked' }));
    expect(response.status).toBe(401);
  });
});

describe('SSRF: hostile URLs are refused at registration with the reason', () => {
  const hostile: [string, string][] = [
    ['https://127.0.0.1/hook', 'non-public-address'],
    ['https://127.1/hook', 'numeric-ip-notation'],
    ['https://2130706433/hook', 'numeric-ip-notation'],
    ['https://0x7f000001/hook', 'numeric-ip-notation'],
    ['https://0177.0.0.1/hook', 'numeric-ip-notation'],
    ['https://0x7f.0.0.1/hook', 'numeric-ip-notation'],
    ['https://127.0.0.1./hook', 'numeric-ip-notation'],
    ['https://017700000001/hook', 'numeric-ip-notation'],
    ['https://10.0.0.1/hook', 'non-public-address'],
    ['https://172.16.5.4/hook', 'non-public-address'],
    ['https://192.168.1.1:8443/hook', 'non-public-address'],
    ['https://100.64.0.1/hook', 'non-public-address'],
    ['https://169.254.169.254/latest/meta-data/', 'non-public-address'],
    ['https://0.0.0.0/hook', 'non-public-address'],
    ['https://224.0.0.1/hook', 'non-public-address'],
    ['https://255.255.255.255/hook', 'non-public-address'],
    ['https://240.0.0.1/hook', 'non-public-address'],
    ['https://192.0.2.10/hook', 'non-public-address'],
    ['https://%31%32%37.0.0.1/hook', 'non-public-address'],
    ['https://[::1]/hook', 'non-public-address'],
    ['https://[::]/hook', 'non-public-address'],
    ['https://[fc00::1]/hook', 'non-public-address'],
    ['https://[fe80::1]/hook', 'non-public-address'],
    ['https://[ff02::1]/hook', 'non-public-address'],
    ['https://[::ffff:127.0.0.1]/hook', 'non-public-address'],
    ['https://[::ffff:a9fe:a9fe]/hook', 'non-public-address'],
    ['https://[64:ff9b::a9fe:a9fe]/hook', 'non-public-address'],
    ['https://[2002:7f00:1::]/hook', 'non-public-address'],
    ['https://[::7f00:1]/hook', 'non-public-address'],
    ['https://[::127.0.0.1]/hook', 'non-public-address'],
    ['https://[::a9fe:a9fe]/hook', 'non-public-address'],
    ['https://compat.example.com/hook', 'non-public-address'],
    ['https://localhost/hook', 'non-public-address'],
    ['https://loopback.example.com/hook', 'non-public-address'],
    ['https://metadata.example.com/hook', 'non-public-address'],
    ['https://mixed.example.com/hook', 'non-public-address'],
    ['https://ula.example.com/hook', 'non-public-address'],
    ['https://mapped.example.com/hook', 'non-public-address'],
    ['https://unknown-host.example.com/hook', 'unresolvable-host'],
    ['https://user:secret@hooks.example.com/hook', 'credentials-in-url'],
    ['https://token@hooks.example.com/hook', 'credentials-in-url'],
    ['http://hooks.example.com/hook', 'https-required'],
    ['http://127.0.0.1/hook', 'https-required'],
    ['ftp://hooks.example.com/hook', 'scheme-not-allowed'],
    ['file:///etc/passwd', 'scheme-not-allowed'],
    ['gopher://hooks.example.com:70/_hello', 'scheme-not-allowed'],
    ['javascript:alert(1)', 'scheme-not-allowed'],
    ['hooks.example.com/hook', 'invalid-url'],
    [`https://hooks.example.com/${'a'.repeat(2048)}`, 'url-too-long'],
  ];

  it('covers at least 30 hostile URLs', () => expect(hostile.length).toBeGreaterThanOrEqual(30));

  const rows = hostile.map(([url, reason]) => [url.length > 80 ? `${url.slice(0, 40)}… (${url.length} chars)` : url, url, reason]);

  it.each(rows)('refuses %s', async (_, url, reason) => {
    const response = await create('mer_ssrf', { url });
    expect(response.status).toBe(400);
    expect(response.headers['Content-Type']).toBe('application/problem+json');
    expect(response.body!.detail).toContain(`(${reason})`);
  });

  it('stored none of them', async () => {
    expect((await call('mer_ssrf', 'GET', '/v1/webhooks')).body!.data).toEqual([]);
  });
});
