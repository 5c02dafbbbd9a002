import { appendHistory, HISTORY_LIMIT, type HistoryEntry } from '../../../../lambdas/core/requests/request';
import { failedByExhaustion, shouldReopen } from '../../../../lambdas/core/requests/redrive';

const row = (attempt: number): HistoryEntry => ({ from: 'accepted', to: 'processing', at: new Date(attempt * 1000).toISOString(), attempt });

describe('appendHistory', () => {
  // docs/data-model.md states the bound: 50 rows, the first 25 and the latest 25.
  it('keeps all 50 rows at exactly the documented limit', () => {
    let history: HistoryEntry[] = [];
    for (let i = 1; i <= 50; i++) history = appendHistory(history, row(i));
    expect(history).toHaveLength(50);
    expect(history[0]!.attempt).toBe(1);
    expect(history[49]!.attempt).toBe(50);
  });

  it('drops exactly the 26th row when a 51st arrives, keeping the first 25 and the latest 25', () => {
    let history: HistoryEntry[] = [];
    for (let i = 1; i <= 51; i++) history = appendHistory(history, row(i));
    expect(history).toHaveLength(50);
    expect(history.map((h) => h.attempt)).toEqual([
      ...Array.from({ length: 25 }, (_, i) => i + 1),
      ...Array.from({ length: 25 }, (_, i) => i + 27),
    ]);
  });

  it('keeps every row up to the limit', () => {
    let history: HistoryEntry[] = [];
    for (let i = 1; i <= HISTORY_LIMIT; i++) history = appendHistory(history, row(i));
    expect(history.map((h) => h.attempt)).toEqual(Array.from({ length: HISTORY_LIMIT }, (_, i) => i + 1));
  });

  it('keeps the first and the latest rows of a request retried very often', () => {
    let history: HistoryEntry[] = [];
    for (let i = 1; i <= 500; i++) history = appendHistory(history, row(i));
    expect(history).toHaveLength(HISTORY_LIMIT);
    const head = HISTORY_LIMIT / 2;
    expect(history.slice(0, head).map((h) => h.attempt)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    expect(history.slice(head).map((h) => h.attempt)).toEqual(Array.from({ length: HISTORY_LIMIT - head }, (_, i) => 500 - (HISTORY_LIMIT - head) + 1 + i));
    expect(Buffer.byteLength(JSON.stringify(history))).toBeLessThan(20_000);
  });
});

describe('redrive reopening', () => {
  const exhausted = { status: 'failed' as const, error: { code: 'x', message: 'x', retryable: true } };

  it('reopens a request failed by exhausted attempts once per newer redrive', () => {
    expect(failedByExhaustion(exhausted)).toBe(true);
    expect(shouldReopen(exhausted, 0)).toBe(false);
    expect(shouldReopen(exhausted, 1)).toBe(true);
    expect(shouldReopen({ ...exhausted, redriveGeneration: 1 }, 1)).toBe(false);
    expect(shouldReopen({ ...exhausted, redriveGeneration: 1 }, 2)).toBe(true);
  });

  it('never reopens a refused request or one that is not failed', () => {
    expect(shouldReopen({ ...exhausted, error: { ...exhausted.error, retryable: false } }, 5)).toBe(false);
    expect(shouldReopen({ status: 'succeeded' }, 5)).toBe(false);
  });
});
