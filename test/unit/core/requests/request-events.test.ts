import { DEFAULT_STREAM_LIMITS, followRequest, formatServerSentEvent, streamFinishedFor, transitionsAfter } from '../../../../lambdas/core/requests/request-events';
import type { HeraldRequest, HistoryEntry } from '../../../../lambdas/core/requests/request';

const row = (from: HistoryEntry['from'], to: HistoryEntry['to'], at: string, extra: Partial<HistoryEntry> = {}): HistoryEntry => ({
  from,
  to,
  at,
  attempt: 1,
  ...extra,
});

function requestWith(history: HistoryEntry[]): HeraldRequest {
  const last = history[history.length - 1]!;
  return {
    id: 'req_1',
    merchantId: 'mer_1',
    type: 'demo.sleep',
    payload: { secret: 'never streamed' },
    status: last.to,
    version: history.length,
    attempts: 1,
    idempotencyKey: 'k',
    webhookEvents: true,
    history,
    createdAt: history[0]!.at,
    updatedAt: last.at,
  };
}

const history = [
  row(null, 'accepted', '2026-01-01T00:00:00.000Z'),
  row('accepted', 'processing', '2026-01-01T00:00:01.000Z'),
  row('processing', 'processing', '2026-01-01T00:00:01.500Z', { step: 'debit' }),
  row('processing', 'succeeded', '2026-01-01T00:00:02.000Z'),
];

describe('transitionsAfter', () => {
  it('names each event by the status reached and leaves out processor steps and payloads', () => {
    const events = transitionsAfter(requestWith(history));
    expect(events.map((e) => e.event)).toEqual(['accepted', 'processing', 'succeeded']);
    expect(JSON.stringify(events)).not.toContain('never streamed');
  });

  it('resumes after the transition a Last-Event-ID names', () => {
    const [accepted] = transitionsAfter(requestWith(history));
    expect(transitionsAfter(requestWith(history), accepted!.id).map((e) => e.event)).toEqual(['processing', 'succeeded']);
  });

  it('places a client by time when the row its id names was trimmed from the history', () => {
    const trimmed = requestWith([history[0]!, history[3]!]);
    expect(transitionsAfter(trimmed, '2026-01-01T00:00:01.000Z/processing').map((e) => e.event)).toEqual(['succeeded']);
  });
});

describe('followRequest', () => {
  it('writes transitions as they appear and stops at the terminal status', async () => {
    const reads = [requestWith(history.slice(0, 2)), requestWith(history)];
    const written: string[] = [];
    const ended = await followRequest(
      requestWith(history.slice(0, 1)),
      undefined,
      { write: (text) => written.push(text), closed: false },
      { read: async () => reads.shift(), sleep: async () => undefined },
    );
    expect(ended).toBe('terminal');
    expect(written.filter((text) => text.startsWith('id:'))).toEqual(transitionsAfter(requestWith(history)).map(formatServerSentEvent));
  });

  it('stops at its time limit while the request is still running, so a client reconnects', async () => {
    let clock = 0;
    const ended = await followRequest(
      requestWith(history.slice(0, 2)),
      undefined,
      { write: () => undefined, closed: false },
      { read: async () => requestWith(history.slice(0, 2)), sleep: async (ms) => void (clock += ms), now: () => clock },
      { pollIntervalMs: 1_000, maxDurationMs: 5_000, heartbeatMs: 2_000, reconnectMs: 5_000 },
    );
    expect(ended).toBe('time-limit');
    expect(clock).toBe(5_000);
  });

  it('tells the client to wait seconds before reconnecting, not the poll interval', async () => {
    const written: string[] = [];
    await followRequest(requestWith(history), undefined, { write: (text) => written.push(text), closed: false }, { read: async () => undefined, sleep: async () => undefined }, {
      ...DEFAULT_STREAM_LIMITS,
      pollIntervalMs: 250,
    });
    const retry = Number(/^retry: (\d+)\n\n$/.exec(written[0]!)?.[1]);
    expect(retry).toBeGreaterThanOrEqual(1_000);
  });
});

describe('streamFinishedFor', () => {
  const [, , terminal] = transitionsAfter(requestWith(history));

  it('is true for a client that reconnects after the terminal event of a finished request', () => {
    expect(streamFinishedFor(requestWith(history), terminal!.id)).toBe(true);
  });

  it('is false while something is left to send, the request runs, or the client never saw an event', () => {
    const [accepted] = transitionsAfter(requestWith(history));
    expect(streamFinishedFor(requestWith(history), accepted!.id)).toBe(false);
    expect(streamFinishedFor(requestWith(history.slice(0, 2)), '2026-01-01T00:00:01.000Z/processing')).toBe(false);
    expect(streamFinishedFor(requestWith(history), undefined)).toBe(false);
  });
});
