import type { LocalRuntime } from '../../lib/local/runtime';
import { apiClient, startTestRuntime } from '../support/local-runtime';

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
