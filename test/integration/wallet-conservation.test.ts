import fc from 'fast-check';
import { dynamoClient } from '../../lambdas/adapters/aws-clients';
import { DynamoWalletLedger } from '../../lambdas/adapters/dynamo-wallet-ledger';
import { PermanentError, RetryableError, type ProcessorContext } from '../../lambdas/core/requests/processor';
import { walletDebit } from '../../lambdas/processors/wallet-debit';
import { apiEvent, invoke } from '../support/api-events';
import { provisionForTest } from '../support/endpoints';

/**
 * A saga moves money between one merchant's wallets; it must never create or destroy any. The
 * processor runs against DynamoDB Local through the real ledger, attempt after attempt as the
 * worker would, until it succeeds or ends refused (compensated or not).
 */
let ledger: DynamoWalletLedger;
let submitHandler: unknown;

beforeAll(async () => {
  const resources = await provisionForTest('wallets');
  ledger = new DynamoWalletLedger(dynamoClient(), resources.tableName);
  submitHandler = (await import('../../lambdas/handlers/submit-request')).handler;
});

const WALLETS = ['w-a', 'w-b', 'w-c', 'w-d'] as const;
/** Far more than any generated saga needs: each attempt either finishes it or passes a failing first attempt. */
const MAX_ATTEMPTS = 10;

const creditStep = fc.record({ kind: fc.constant('credit' as const), walletId: fc.constantFrom(...WALLETS), amountCents: fc.integer({ min: 1, max: 600 }) });
const checkStep = fc.record({
  kind: fc.constant('check' as const),
  name: fc.constantFrom('fraud', 'stock'),
  outcome: fc.constantFrom('pass' as const, 'pass' as const, 'refuse' as const),
  failFirstAttempts: fc.integer({ min: 0, max: 2 }),
});

const saga = fc.record({
  opening: fc.tuple(...WALLETS.map(() => fc.integer({ min: 0, max: 1_500 }))),
  from: fc.constantFrom(...WALLETS),
  steps: fc.array(fc.oneof(creditStep, creditStep, checkStep), { minLength: 1, maxLength: 6 }),
  /** Mostly 0 (a saga whose credits add up to its debit); otherwise one that would create or lose money. */
  imbalance: fc.oneof(fc.constant(0), fc.constant(0), fc.constant(0), fc.integer({ min: -300, max: 300 })),
});

let runs = 0;

function contextFor(merchantId: string, requestId: string, attempt: number): ProcessorContext {
  return {
    merchantId,
    requestId,
    attempt,
    signal: new AbortController().signal,
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    recordStep: () => undefined,
    services: { wallets: ledger },
  };
}

async function sumOfBalances(merchantId: string): Promise<number> {
  const wallets = await Promise.all(WALLETS.map((walletId) => ledger.wallet(merchantId, walletId)));
  return wallets.reduce((sum, wallet) => sum + (wallet?.balanceCents ?? 0), 0);
}

it("leaves the sum of a merchant's balances unchanged, whatever the saga and however it ends", async () => {
  await fc.assert(
    fc.asyncProperty(saga, async ({ opening, from, steps, imbalance }) => {
      const merchantId = `mer_conserve_${++runs}`;
      const requestId = `req_conserve${String(runs).padStart(14, '0')}`;
      for (const [index, amountCents] of opening.entries()) {
        if (amountCents > 0) await ledger.apply(merchantId, { reference: 'opening', entry: WALLETS[index]!, walletId: WALLETS[index]!, amountCents });
      }
      const before = await sumOfBalances(merchantId);
      const credited = steps.reduce((sum, step) => (step.kind === 'credit' ? sum + step.amountCents : sum), 0);
      const payload = { walletId: from, amountCents: credited + imbalance, steps };

      const parsed = walletDebit.schema.safeParse(payload);
      // The debit must be a positive amount the credits share out exactly; anything else is a 400 at submit.
      expect(parsed.success).toBe(imbalance === 0 && credited > 0);
      if (!parsed.success) return;

      let ended = false;
      for (let attempt = 1; attempt <= MAX_ATTEMPTS && !ended; attempt++) {
        try {
          await walletDebit.run(parsed.data, contextFor(merchantId, requestId, attempt));
          ended = true;
        } catch (error) {
          if (error instanceof PermanentError) ended = true;
          else if (!(error instanceof RetryableError)) throw error;
        }
      }
      expect(ended).toBe(true);
      expect(await sumOfBalances(merchantId)).toBe(before);
    }),
    { numRuns: 25 },
  );
}, 120_000);

it('refuses at submit a debit whose credits add up to more than it, with a 400 naming the steps and both sums', async () => {
  const tenCredits = Array.from({ length: 10 }, () => ({ kind: 'credit', walletId: 'w-dest', amountCents: 100 }));
  const response = await invoke(
    submitHandler,
    apiEvent({
      method: 'POST',
      path: '/v1/requests',
      headers: { 'idempotency-key': 'conserve-ten-credits' },
      body: { type: 'wallet.debit', payload: { walletId: 'w-src', amountCents: 100, steps: tenCredits } },
      merchantId: 'mer_conserve_submit',
    }),
  );
  expect(response.status).toBe(400);
  expect(response.headers['Content-Type']).toBe('application/problem+json');
  expect(response.body!.errors).toEqual([
    { path: '/payload/steps', message: "the credit steps' amountCents sum to 1000; they must sum to the debited amountCents, 100" },
  ]);
});

it('refuses a debit with no credit step, which would take money out of every wallet of the merchant', async () => {
  const response = await invoke(
    submitHandler,
    apiEvent({
      method: 'POST',
      path: '/v1/requests',
      headers: { 'idempotency-key': 'conserve-no-credit' },
      body: { type: 'wallet.debit', payload: { walletId: 'w-src', amountCents: 100, steps: [{ kind: 'check', name: 'fraud' }] } },
      merchantId: 'mer_conserve_submit',
    }),
  );
  expect(response.status).toBe(400);
  expect(response.body!.errors).toEqual([
    { path: '/payload/steps', message: "the credit steps' amountCents sum to 0; they must sum to the debited amountCents, 100" },
  ]);
});
