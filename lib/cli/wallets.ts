/**
 * `herald wallets credit <wallet> <cents> [--reference REF]` and `herald wallets show <wallet>`:
 * funds a wallet for the `wallet.debit` saga (demos and tests) and shows its balance.
 *
 * A credit is a ledger entry like any saga step, keyed by its reference: running the same
 * command again with the same `--reference` credits once. Without one, a new reference is made
 * and printed.
 */
import { randomUUID } from 'node:crypto';
import { DynamoWalletLedger } from '../../lambdas/adapters/dynamo-wallet-ledger';
import { WALLET_ID_PATTERN, type WalletLedger } from '../../lambdas/core/wallet';
import { CliUsageError, withTarget } from './context';

export const USAGE = `Usage:
  herald wallets credit <wallet-id> <amount-cents> [--reference REF] <target>
  herald wallets show <wallet-id> <target>

credit   adds money to a wallet (created if new); the same --reference credits only once
show     prints the wallet's balance in cents`;

/** Credits a wallet once per reference; returns what happened and the balance after it. */
export async function creditWallet(
  ledger: WalletLedger,
  walletId: string,
  amountCents: number,
  reference: string,
): Promise<{ applied: boolean; balanceCents: number }> {
  const outcome = await ledger.apply({ reference: `credit-${reference}`, entry: 'credit', walletId, amountCents, note: 'operator credit' });
  const wallet = await ledger.wallet(walletId);
  return { applied: outcome.outcome === 'applied', balanceCents: wallet?.balanceCents ?? 0 };
}

export async function run(argv: string[]): Promise<void> {
  await withTarget(argv, { reference: { type: 'string' } }, USAGE, async (target, { values, positionals }) => {
    const [action, walletId, amount, ...extra] = positionals;
    if (!walletId || !WALLET_ID_PATTERN.test(walletId) || extra.length > 0) throw new CliUsageError(USAGE);
    const ledger = new DynamoWalletLedger(target.dynamo, target.tableName);
    if (action === 'show' && amount === undefined) {
      const wallet = await ledger.wallet(walletId);
      console.log(wallet ? `${walletId}: ${wallet.balanceCents} cents (updated ${wallet.updatedAt})` : `${walletId}: no such wallet`);
      return;
    }
    if (action !== 'credit') throw new CliUsageError(USAGE);
    const amountCents = Number(amount);
    if (!Number.isInteger(amountCents) || amountCents < 1) throw new CliUsageError('The amount is a whole number of cents, at least 1');
    const reference = (values.reference as string | undefined) ?? randomUUID();
    const { applied, balanceCents } = await creditWallet(ledger, walletId, amountCents, reference);
    console.log(
      applied
        ? `Credited ${amountCents} cents to ${walletId} (reference ${reference}); balance ${balanceCents} cents`
        : `Reference ${reference} was already credited to ${walletId}; nothing changed; balance ${balanceCents} cents`,
    );
  });
}
