import { run as walletsCommand } from '../../lib/cli/wallets';
import type { LocalRuntime } from '../../lib/local/runtime';
import { apiClient, eventually, startTestRuntime } from '../support/local-runtime';

let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  runtime = await startTestRuntime('saga');
  api = apiClient(runtime);
});

afterAll(() => runtime?.stop());

/** Runs `herald wallets …` against this runtime and returns what it printed. */
async function herald(...args: string[]): Promise<string> {
  const printed: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
  try {
    await walletsCommand([...args, '--local', '--port', String(runtime.port)]);
  } finally {
    log.mockRestore();
  }
  return printed.join('\n');
}

async function finished(id: string) {
  return eventually(async () => {
    const polled = (await api('GET', `/v1/requests/${id}`)).body!;
    return polled.status === 'succeeded' || polled.status === 'failed' ? polled : undefined;
  });
}

describe('the wallet saga through the API and the CLI', () => {
  it('credits a wallet once per reference', async () => {
    expect(await herald('credit', 'w-erin', '1000', '--reference', 'topup-1')).toMatch(/^Credited 1000 cents to w-erin .*balance 1000 cents$/);
    expect(await herald('credit', 'w-erin', '1000', '--reference', 'topup-1')).toMatch(/already credited .*balance 1000 cents$/);
    expect(await herald('show', 'w-erin')).toMatch(/^w-erin: 1000 cents/);
  });

  it('pays a shop, and refunds both sides when a later step refuses', async () => {
    const paid = await api('POST', '/v1/requests', {
      headers: { 'idempotency-key': 'saga-paid' },
      body: { type: 'wallet.debit', payload: { walletId: 'w-erin', amountCents: 300, steps: [{ kind: 'credit', walletId: 'w-cafe' }, { kind: 'check', name: 'stock' }] } },
    });
    expect(await finished(paid.body!.id)).toMatchObject({ status: 'succeeded', result: { debitedCents: 300, steps: ['debit', 'credit w-cafe', 'check stock'] } });
    expect(await herald('show', 'w-erin')).toMatch(/^w-erin: 700 cents/);
    expect(await herald('show', 'w-cafe')).toMatch(/^w-cafe: 300 cents/);

    const refused = await api('POST', '/v1/requests', {
      headers: { 'idempotency-key': 'saga-refused' },
      body: {
        type: 'wallet.debit',
        payload: { walletId: 'w-erin', amountCents: 200, steps: [{ kind: 'credit', walletId: 'w-cafe' }, { kind: 'check', name: 'fraud-screen', outcome: 'refuse' }] },
      },
    });
    const failed = await finished(refused.body!.id);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'step_refused', compensated: true, retryable: false } });
    expect(failed.history.filter((h: { step?: string }) => h.step).map((h: { step: string; reason: string }) => `${h.step}: ${h.reason}`)).toEqual([
      'debit: debited 200 from w-erin',
      'credit w-cafe: credited 200 to w-cafe',
      'check fraud-screen: refused: fraud-screen refused the payment',
      'undo credit w-cafe: took 200 back from w-cafe',
      'undo debit: refunded 200 to w-erin',
    ]);
    expect(await herald('show', 'w-erin')).toMatch(/^w-erin: 700 cents/);
    expect(await herald('show', 'w-cafe')).toMatch(/^w-cafe: 300 cents/);
  });

  it('refuses an invalid saga payload at submit with the field named', async () => {
    const response = await api('POST', '/v1/requests', {
      headers: { 'idempotency-key': 'saga-bad' },
      body: { type: 'wallet.debit', payload: { walletId: 'w-erin', amountCents: 0 } },
    });
    expect(response.status).toBe(400);
    expect(response.body!.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: '/payload/amountCents' })]));
  });
});
