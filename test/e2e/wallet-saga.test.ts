import { DynamoMerchantStore } from '../../lambdas/adapters/dynamo-merchant-store';
import { dynamoClient } from '../../lambdas/adapters/aws-clients';
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
    expect(await herald('credit', 'w-erin', '1000', '--reference', 'topup-1')).toMatch(/^Credited 1000 cents to w-erin of merchant mer_local_demo .*balance 1000 cents$/);
    expect(await herald('credit', 'w-erin', '1000', '--reference', 'topup-1')).toMatch(/already credited .*balance 1000 cents$/);
    expect(await herald('show', 'w-erin')).toMatch(/^w-erin \(merchant mer_local_demo\): 1000 cents/);
    expect(await herald('show', 'w-erin', '--merchant', 'mer_local_demo')).toMatch(/: 1000 cents/);
  });

  it("keeps each merchant's wallets apart: the same wallet id is another wallet under --merchant", async () => {
    await new DynamoMerchantStore(dynamoClient(), runtime.resources.tableName).createMerchant({ id: 'mer_saga_other', name: 'Other shop' });

    expect(await herald('credit', 'w-shared-name', '40', '--merchant', 'mer_saga_other')).toMatch(/^Credited 40 cents to w-shared-name of merchant mer_saga_other/);

    expect(await herald('show', 'w-shared-name', '--merchant', 'mer_saga_other')).toMatch(/: 40 cents/);
    expect(await herald('show', 'w-shared-name')).toMatch(/^w-shared-name \(merchant mer_local_demo\): no such wallet$/);
    const stolen = await api('POST', '/v1/requests', {
      headers: { 'idempotency-key': 'saga-steal' },
      body: { type: 'wallet.debit', payload: { walletId: 'w-shared-name', amountCents: 10, steps: [{ kind: 'credit', walletId: 'w-loot', amountCents: 10 }] } },
    });
    expect(await finished(stolen.body!.id)).toMatchObject({ status: 'failed', error: { code: 'unknown_wallet', message: 'Wallet w-shared-name does not exist' } });
    expect(await herald('show', 'w-shared-name', '--merchant', 'mer_saga_other')).toMatch(/: 40 cents/);
  });

  it('refuses a credit for a merchant that does not exist', async () => {
    await expect(herald('credit', 'w-x', '5', '--merchant', 'mer_nobody')).rejects.toThrow(/No merchant mer_nobody/);
  });

  it('pays a shop, and refunds both sides when a later step refuses', async () => {
    const paid = await api('POST', '/v1/requests', {
      headers: { 'idempotency-key': 'saga-paid' },
      body: { type: 'wallet.debit', payload: { walletId: 'w-erin', amountCents: 300, steps: [{ kind: 'credit', walletId: 'w-cafe', amountCents: 300 }, { kind: 'check', name: 'stock' }] } },
    });
    expect(await finished(paid.body!.id)).toMatchObject({ status: 'succeeded', result: { debitedCents: 300, steps: ['debit', 'credit w-cafe', 'check stock'] } });
    expect(await herald('show', 'w-erin')).toMatch(/: 700 cents/);
    expect(await herald('show', 'w-cafe')).toMatch(/: 300 cents/);

    const refused = await api('POST', '/v1/requests', {
      headers: { 'idempotency-key': 'saga-refused' },
      body: {
        type: 'wallet.debit',
        payload: { walletId: 'w-erin', amountCents: 200, steps: [{ kind: 'credit', walletId: 'w-cafe', amountCents: 200 }, { kind: 'check', name: 'fraud-screen', outcome: 'refuse' }] },
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
    expect(await herald('show', 'w-erin')).toMatch(/: 700 cents/);
    expect(await herald('show', 'w-cafe')).toMatch(/: 300 cents/);
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
