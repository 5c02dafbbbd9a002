import { demoSleep } from '../../../lambdas/processors/demo';

// demo.sleep promises to wait at least `payload.ms` and to say how long it waited. A timer can
// end a millisecond early by a fresh clock, so many short sleeps show whether that leaks out.
describe('demo.sleep', () => {
  it('never reports less than it was asked to sleep', async () => {
    const reports: { ms: number; sleptMs: number }[] = [];
    for (let i = 0; i < 400; i++) {
      const ms = 1 + (i % 7);
      const { sleptMs } = await demoSleep.run({ ms }, { signal: new AbortController().signal } as Parameters<typeof demoSleep.run>[1]);
      reports.push({ ms, sleptMs });
    }
    expect(reports.filter((report) => report.sleptMs < report.ms)).toEqual([]);
  });
});
