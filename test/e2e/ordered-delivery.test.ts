import type { LocalRuntime } from '../../lib/local/runtime';
import { apiClient, eventually, startTestRuntime } from '../support/local-runtime';
import { startReceiver, type WebhookReceiver } from '../support/webhook-receiver';

// Shrinks the webhook schedule to seconds, so the failed attempts are retried at once.
const RETRY_SCALE = 0.0001;
const ORDERED = 50;
const OTHER = 5;

let runtime: LocalRuntime;
let receiver: WebhookReceiver;
/** The status the receiver answered to its n-th POST (index n - 1). */
const answered: number[] = [];

beforeAll(async () => {
  runtime = await startTestRuntime('ordered', { retryScale: RETRY_SCALE });
  // The receiver: every third attempt fails.
  receiver = await startReceiver((n) => {
    const status = n % 3 === 0 ? 500 : 200;
    answered[n - 1] = status;
    return { status };
  });
}, 60_000);

afterAll(async () => {
  await receiver?.close();
  await runtime?.stop();
});

type Api = ReturnType<typeof apiClient>;

async function submit(api: Api, idempotencyKey: string, orderingKey: string): Promise<string> {
  const submitted = await api('POST', '/v1/requests', {
    body: { type: 'demo.sleep', payload: { ms: 1 }, orderingKey },
    headers: { 'idempotency-key': idempotencyKey },
  });
  expect(submitted.status).toBe(202);
  return submitted.body!.id as string;
}

/** The request ids of the webhooks the receiver accepted (answered 2xx), in the order they arrived. */
function acceptedIds(): string[] {
  return receiver.received.flatMap((webhook, i) => (answered[i] === 200 ? [JSON.parse(webhook.body).data.id as string] : []));
}

describe('ordered delivery per orderingKey', () => {
  it('delivers 50 events of one key in acceptance order through failures, while another key goes unhindered', async () => {
    const api = apiClient(runtime);
    const endpoint = await api('POST', '/v1/webhooks', { body: { url: receiver.url } });
    expect(endpoint.status).toBe(201);

    const ordered: string[] = [];
    for (let i = 0; i < ORDERED; i++) ordered.push(await submit(api, `ordered-a-${i}`, 'customer-42'));
    const other: string[] = [];
    for (let i = 0; i < OTHER; i++) other.push(await submit(api, `ordered-b-${i}`, 'customer-7'));

    const everyOther = await eventually(async () => {
      const accepted = acceptedIds();
      return other.every((id) => accepted.includes(id)) ? accepted : undefined;
    }, 60_000, 50);
    // The other key did not wait behind the 50: its events were all in while the first key's were still arriving.
    const orderedSoFar = everyOther.filter((id) => ordered.includes(id));
    expect(new Set(orderedSoFar).size).toBeLessThan(ORDERED);

    const accepted = await eventually(async () => {
      const ids = acceptedIds();
      return ordered.every((id) => ids.includes(id)) ? ids : undefined;
    }, 110_000, 100);

    // Every event of the key, each accepted once, in the order the requests were accepted.
    const firstAcceptances = accepted.filter((id, i) => ordered.includes(id) && accepted.indexOf(id) === i);
    expect(firstAcceptances).toEqual(ordered);
    expect(accepted.filter((id) => ordered.includes(id))).toHaveLength(ORDERED);
    const otherAcceptances = accepted.filter((id) => other.includes(id));
    expect(otherAcceptances).toEqual(other);
    // The receiver did fail some of them, so the order held through retries.
    expect(answered.filter((status) => status === 500).length).toBeGreaterThanOrEqual(Math.floor((ORDERED + OTHER) / 3));

    // A wait shows in the attempt log, and the request shows its key.
    const logs = await Promise.all(ordered.map((id) => api('GET', `/v1/requests/${id}/deliveries`)));
    const waits = logs.flatMap((log) => (log.body!.data as { attempts: { error?: string }[] }[]).flatMap((delivery) => delivery.attempts));
    expect(waits.some((attempt) => attempt.error === 'predecessor_pending')).toBe(true);
    const last = await api('GET', `/v1/requests/${ordered.at(-1)}`);
    expect(last.body!.orderingKey).toBe('customer-42');
  }, 180_000);

  it('refuses an orderingKey that is not 1 to 128 printable ASCII characters, storing nothing', async () => {
    const api = apiClient(runtime);
    for (const [key, orderingKey] of [
      ['bad-order-long', 'k'.repeat(129)],
      ['bad-order-empty', ''],
      ['bad-order-control', 'line\nbreak'],
      ['bad-order-type', 42],
    ] as const) {
      const refused = await api('POST', '/v1/requests', { body: { type: 'demo.sleep', payload: { ms: 1 }, orderingKey }, headers: { 'idempotency-key': key } });
      expect(refused.status).toBe(400);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(refused.body!.detail).toContain('/orderingKey');
      expect(refused.body!.errors).toEqual([expect.objectContaining({ path: '/orderingKey' })]);
      // Nothing was stored: the same key now takes a valid body.
      const accepted = await api('POST', '/v1/requests', { body: { type: 'demo.sleep', payload: { ms: 1 } }, headers: { 'idempotency-key': key } });
      expect(accepted.status).toBe(202);
    }
  });

  it('counts the orderingKey in the idempotency fingerprint', async () => {
    const api = apiClient(runtime);
    const body = { type: 'demo.sleep', payload: { ms: 1 }, orderingKey: 'fingerprint-1' };
    const first = await api('POST', '/v1/requests', { body, headers: { 'idempotency-key': 'order-fp' } });
    expect(first.status).toBe(202);
    const replay = await api('POST', '/v1/requests', { body, headers: { 'idempotency-key': 'order-fp' } });
    expect(replay.status).toBe(202);
    expect(replay.body!.id).toBe(first.body!.id);
    const otherKey = await api('POST', '/v1/requests', { body: { ...body, orderingKey: 'fingerprint-2' }, headers: { 'idempotency-key': 'order-fp' } });
    expect(otherKey.status).toBe(422);
  });
});
