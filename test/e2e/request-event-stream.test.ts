import type { LocalRuntime } from '../../lib/local/runtime';
import { eventStreams } from '../../lambdas/settings/api';
import { apiClient, eventually, startTestRuntime } from '../support/local-runtime';

let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startTestRuntime('events');
});

afterAll(() => runtime?.stop());

interface StreamedEvent {
  readonly id?: string;
  readonly event?: string;
  readonly data?: Record<string, unknown>;
}

/** Reads a `text/event-stream` response to its end, as `curl -N` shows it, and parses its events. */
async function readStream(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(runtime.url + path, {
    headers: { authorization: `Bearer ${runtime.apiKey}`, ...headers },
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  const events: StreamedEvent[] = text
    .split('\n\n')
    .filter((block) => block.split('\n').some((line) => line.startsWith('event:')))
    .map((block) => {
      const fields = Object.fromEntries(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
      return { id: fields.id, event: fields.event, data: fields.data ? JSON.parse(fields.data) : undefined };
    });
  return { response, text, events };
}

async function submit(type: string, payload: Record<string, unknown>, key: string): Promise<string> {
  const submitted = await apiClient(runtime)('POST', '/v1/requests', { body: { type, payload }, headers: { 'idempotency-key': key } });
  expect(submitted.status).toBe(202);
  return submitted.body!.id as string;
}

describe('GET /v1/requests/{id}/events', () => {
  it('streams one event per transition, named by the new status, and ends after the terminal one', async () => {
    const id = await submit('demo.sleep', { ms: 400 }, 'stream-1');
    const { response, events } = await readStream(`/v1/requests/${id}/events`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(events.map((e) => e.event)).toEqual(['accepted', 'processing', 'succeeded']);
    expect(events.every((e) => e.id && e.data?.id === id && e.data?.status === e.event)).toBe(true);
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
  });

  it('sends a reconnecting client only the transitions after its Last-Event-ID', async () => {
    const id = await submit('demo.sleep', { ms: 10 }, 'stream-2');
    const first = await readStream(`/v1/requests/${id}/events`);
    const accepted = first.events.find((e) => e.event === 'accepted')!;

    const resumed = await readStream(`/v1/requests/${id}/events`, { 'last-event-id': accepted.id! });
    expect(resumed.events.map((e) => e.event)).toEqual(['processing', 'succeeded']);
    const afterEnd = await readStream(`/v1/requests/${id}/events`, { 'last-event-id': first.events.at(-1)!.id! });
    expect(afterEnd.events).toEqual([]);
  });

  it('answers 204 to a client reconnecting after the terminal event, so a browser EventSource stops', async () => {
    const id = await submit('demo.sleep', { ms: 10 }, 'stream-204');
    const first = await readStream(`/v1/requests/${id}/events`);
    expect(first.events.at(-1)?.event).toBe('succeeded');

    const byHeader = await readStream(`/v1/requests/${id}/events`, { 'last-event-id': first.events.at(-1)!.id! });
    const byQuery = await readStream(`/v1/requests/${id}/events?lastEventId=${encodeURIComponent(first.events.at(-1)!.id!)}`);
    expect([byHeader.response.status, byQuery.response.status]).toEqual([204, 204]);
    expect(byHeader.text).toBe('');
  });

  it('tells the client to wait seconds, not a fraction of one, before reconnecting', async () => {
    const id = await submit('demo.sleep', { ms: 10 }, 'stream-retry');
    const { text } = await readStream(`/v1/requests/${id}/events`);
    const retry = Number(/^retry: (\d+)$/m.exec(text)?.[1]);
    expect(retry).toBeGreaterThanOrEqual(1_000);
  });

  it(`holds at most ${eventStreams.maxOpenPerMerchant} open streams per merchant: the next is a 429 problem until one closes`, async () => {
    const id = await submit('demo.sleep', { ms: 20_000 }, 'stream-bound');
    const open = async () => {
      const controller = new AbortController();
      const response = await fetch(`${runtime.url}/v1/requests/${id}/events`, {
        headers: { authorization: `Bearer ${runtime.apiKey}` },
        signal: controller.signal,
      });
      return { response, close: () => controller.abort() };
    };
    const streams = [];
    try {
      for (let i = 0; i < eventStreams.maxOpenPerMerchant; i++) streams.push(await open());
      expect(streams.map((s) => s.response.status)).toEqual(Array(eventStreams.maxOpenPerMerchant).fill(200));

      const refused = await fetch(`${runtime.url}/v1/requests/${id}/events`, { headers: { authorization: `Bearer ${runtime.apiKey}` } });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toBe('application/problem+json');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await refused.json()).toMatchObject({
        type: 'https://herald.dev/problems/stream-limit-reached',
        limit: eventStreams.maxOpenPerMerchant,
        detail: expect.stringContaining(`${eventStreams.maxOpenPerMerchant} open event streams`),
      });

      // A closed stream gives its slot back.
      streams.shift()!.close();
      const reopened = await eventually(async () => {
        const attempt = await open();
        if (attempt.response.status === 200) return attempt;
        attempt.close();
        return undefined;
      }, 10_000, 200);
      streams.push(reopened);
    } finally {
      for (const stream of streams) stream.close();
    }
  });

  it('applies the status route rules: no key is a 401, a bad key a 401, another merchant\'s request a 404', async () => {
    const id = await submit('demo.sleep', { ms: 10 }, 'stream-3');
    const anonymous = await fetch(`${runtime.url}/v1/requests/${id}/events`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toBe('application/problem+json');

    const wrongKey = await readStream(`/v1/requests/${id}/events`, { authorization: 'Bearer hrld_not_a_key_0123456789' });
    expect(wrongKey.response.status).toBe(401);

    const unknown = await readStream('/v1/requests/req_not_there/events');
    expect(unknown.response.status).toBe(404);
    expect(JSON.parse(unknown.text)).toMatchObject({ status: 404, detail: expect.stringContaining('req_not_there') });
  });
});
