import { WALLET_ID_PATTERN, type WalletLedger } from '../core/requests/wallet';
import { CompensatedError, PermanentError, RetryableError, type Processor, type ProcessorContext } from '../core/requests/processor';
import * as z from '../core/shared/schema';

const walletId = z.string().check(z.regex(WALLET_ID_PATTERN, 'a wallet id is 1 to 64 letters, digits or _.:-'));

const cents = z.number().check(z.int(), z.gte(1), z.lte(100_000_000));

const step = z.discriminatedUnion('kind', [
  /** Pays its share of the debited amount into another wallet (a merchant, an escrow). Undone by taking it back. */
  z.strictObject({ kind: z.literal('credit'), walletId, amountCents: cents }),
  /**
   * A step with no balance effect of its own (fraud check, stock reservation): it passes, or
   * refuses for good, and its first `failFirstAttempts` attempts fail transiently.
   */
  z.strictObject({
    kind: z.literal('check'),
    name: z.string().check(z.minLength(1), z.maxLength(64)),
    outcome: z._default(z.enum(['pass', 'refuse']), 'pass'),
    failFirstAttempts: z._default(z.number().check(z.int(), z.gte(0), z.lte(20)), 0),
  }),
]);

/**
 * The saga moves money between the merchant's own wallets and creates none: the credits share out
 * exactly what is debited, so a completed saga (or a compensated one) leaves the sum of the
 * merchant's balances as it found it.
 */
const creditsMatchDebit = z.superRefine((debit: { amountCents: number; steps: readonly z.infer<typeof step>[] }, ctx) => {
  const credited = debit.steps.reduce((sum, s) => (s.kind === 'credit' ? sum + s.amountCents : sum), 0);
  if (credited !== debit.amountCents) {
    ctx.addIssue({
      code: 'custom',
      path: ['steps'],
      message: `the credit steps' amountCents sum to ${credited}; they must sum to the debited amountCents, ${debit.amountCents}`,
    });
  }
});

const debitSchema = z
  .strictObject({
    walletId,
    amountCents: cents,
    steps: z.array(step).check(z.maxLength(10)),
  })
  .check(creditsMatchDebit);

export type WalletDebit = z.infer<typeof debitSchema>;

export interface WalletDebitResult {
  readonly walletId: string;
  readonly debitedCents: number;
  readonly steps: readonly string[];
}

/** One step of the saga: what it does and, for steps that move money, how it is undone. */
interface Action {
  readonly name: string;
  /** The ledger entry of the step's balance change; none for steps without one. */
  readonly entry?: string;
  run(): Promise<string>;
  undo?(reason: string): Promise<string>;
}

/**
 * The wallet saga: debit a wallet, then run the listed steps, whose credits pay the debited
 * amount out in the shares they name (summing to it, checked at submit). If a later step refuses for good,
 * the completed steps are undone in reverse order (the debit refunded last) and the request ends
 * `failed` with `compensated: true`. Every balance change is one ledger entry keyed by
 * (request id, step), so a step replayed by a duplicate message or a later attempt changes
 * nothing twice. Once an attempt has begun compensating, later attempts only finish the undo.
 *
 * Every wallet the payload names is one of the submitting merchant's own: a wallet id another
 * merchant uses is, to this merchant, a wallet that does not exist. Refusals name the wallet and
 * the amount, never a balance.
 *
 * A saga whose attempts run out on transient trouble keeps its completed steps: the request ends
 * `failed` (retryable) and a redrive resumes it where it stopped.
 */
export const walletDebit: Processor<WalletDebit, WalletDebitResult> = {
  type: 'wallet.debit',
  displayName: 'Payment',
  timeoutMs: 10_000,
  expectedSeconds: 1,
  schema: debitSchema,
  async run(debit, context) {
    const ledger = context.services.wallets;
    const actions = plan(debit, context, ledger);
    const recorded = await ledger.entries(context.merchantId, context.requestId);
    const undoing = recorded.find((entry) => entry.entry.startsWith('undo-'));

    const done: Action[] = [];
    let failure: PermanentError | undefined;
    if (undoing) {
      done.push(...actions.filter((action) => action.entry && recorded.some((entry) => entry.entry === action.entry)));
      failure = new PermanentError(undoing.note ?? 'an earlier attempt was refused', 'step_refused');
    } else {
      for (const action of actions) {
        try {
          context.recordStep(action.name, await action.run());
          done.push(action);
        } catch (error) {
          if (!(error instanceof PermanentError)) throw error;
          context.recordStep(action.name, `refused: ${error.message}`);
          failure = error;
          break;
        }
      }
    }
    if (!failure) return { walletId: debit.walletId, debitedCents: debit.amountCents, steps: actions.map((action) => action.name) };

    const toUndo = done.filter((action) => action.undo).reverse();
    if (toUndo.length === 0) throw failure;
    for (const action of toUndo) context.recordStep(`undo ${action.name}`, await action.undo!(failure.message));
    throw new CompensatedError(`${failure.message}; the completed steps were undone`, failure.code);
  },
};

function plan(debit: WalletDebit, context: ProcessorContext, ledger: WalletLedger): Action[] {
  const reference = context.requestId;
  const merchantId = context.merchantId;
  const amount = debit.amountCents;
  const actions: Action[] = [
    {
      name: 'debit',
      entry: '0-debit',
      async run() {
        const outcome = await ledger.apply(merchantId, { reference, entry: '0-debit', walletId: debit.walletId, amountCents: -amount });
        switch (outcome.outcome) {
          case 'applied':
            return `debited ${amount} from ${debit.walletId}`;
          case 'already-applied':
            return `debit of ${amount} from ${debit.walletId} already applied`;
          case 'insufficient-funds':
            throw new PermanentError(`Wallet ${debit.walletId} cannot cover ${amount}`, 'insufficient_funds');
          case 'unknown-wallet':
            throw new PermanentError(`Wallet ${debit.walletId} does not exist`, 'unknown_wallet');
        }
      },
      async undo(reason) {
        const outcome = await ledger.apply(merchantId, { reference, entry: 'undo-0-debit', walletId: debit.walletId, amountCents: amount, note: reason });
        return outcome.outcome === 'applied' ? `refunded ${amount} to ${debit.walletId}` : `refund of ${amount} to ${debit.walletId} already applied`;
      },
    },
  ];
  debit.steps.forEach((step, index) => {
    const position = index + 1;
    if (step.kind === 'credit') {
      const entry = `${position}-credit`;
      const share = step.amountCents;
      actions.push({
        name: `credit ${step.walletId}`,
        entry,
        async run() {
          const outcome = await ledger.apply(merchantId, { reference, entry, walletId: step.walletId, amountCents: share });
          return outcome.outcome === 'applied' ? `credited ${share} to ${step.walletId}` : `credit of ${share} to ${step.walletId} already applied`;
        },
        async undo(reason) {
          const outcome = await ledger.apply(merchantId, { reference, entry: `undo-${entry}`, walletId: step.walletId, amountCents: -share, note: reason });
          if (outcome.outcome === 'insufficient-funds' || outcome.outcome === 'unknown-wallet') {
            // The money has moved on from that wallet; the undo waits (and retries) rather than go negative.
            throw new RetryableError(`Cannot take ${share} back from wallet ${step.walletId} yet`, 'compensation_blocked');
          }
          return outcome.outcome === 'applied' ? `took ${share} back from ${step.walletId}` : `taking ${share} back from ${step.walletId} already applied`;
        },
      });
    } else {
      actions.push({
        name: `check ${step.name}`,
        async run() {
          if (context.attempt <= step.failFirstAttempts) throw new RetryableError(`${step.name} is unavailable`, 'step_unavailable');
          if (step.outcome === 'refuse') throw new PermanentError(`${step.name} refused the payment`, 'step_refused');
          return 'passed';
        },
      });
    }
  });
  return actions;
}
