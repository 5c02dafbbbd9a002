import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLedger } from '../../../bench/chaos/effect-ledger';

// The chaos run kills the runtime at random moments, some of them while its processor is
// posting an effect: the ledger must take a cut-off post as an effect that never happened, and
// go on recording, or the run would end for a reason that is not Herald's.

let ledger: Awaited<ReturnType<typeof startLedger>>;
const rejections: unknown[] = [];
const onRejection = (reason: unknown) => rejections.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onRejection);
  ledger = await startLedger();
});
afterAll(async () => {
  process.off('unhandledRejection', onRejection);
  await ledger.close();
});

const post = (path: string, body: unknown) => fetch(`${ledger.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function postCutShort(path: string): Promise<void> {
  const { port } = new URL(ledger.url);
  await new Promise<void>((resolve) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: ledger\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"operation":`);
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 50);
    });
  });
  await sleep(100);
}

describe('the chaos run ledger', () => {
  it('records nothing for a post cut short, and records the same effect posted in full afterwards', async () => {
    await postCutShort('/effects/req_cut/1');

    expect(rejections).toEqual([]);
    expect((await fetch(`${ledger.url}/effects/req_cut/1`)).status).toBe(404);
    expect((await post('/effects/req_cut/1', { operation: 'op-cut' })).status).toBe(201);
    expect((await fetch(`${ledger.url}/effects/req_cut/1`)).status).toBe(200);
    expect(ledger.effects.get('req_cut/1')).toEqual({ count: 1, requestId: 'req_cut', step: 1, operation: 'op-cut' });
  });

  it('counts an effect posted twice as acted twice', async () => {
    await post('/effects/req_twice/2', { operation: 'op-twice' });
    await post('/effects/req_twice/2', { operation: 'op-twice' });
    expect(ledger.effects.get('req_twice/2')?.count).toBe(2);
  });

  it('refuses a body that is not JSON without recording it', async () => {
    const answer = await fetch(`${ledger.url}/effects/req_bad/1`, { method: 'POST', body: '{not json' });
    expect(answer.status).toBe(400);
    expect(ledger.effects.has('req_bad/1')).toBe(false);
  });
});
