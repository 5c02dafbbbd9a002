/**
 * `herald wallets credit <wallet> <cents> --merchant ID [--reference REF]` and
 * `herald wallets show <wallet> --merchant ID`: funds one merchant's wallet for the
 * `wallet.debit` saga (demos and tests) and shows its balance. Wallets belong to a merchant, so
 * the merchant is always named; against the local runtime it defaults to the demo merchant.
 *
 * A credit is a ledger entry like any saga step, keyed by its reference: running the same
 * command again with the same `--reference` credits once. Without one, a new reference is made
 * and printed.
 */
import { randomUUID } from 'node:crypto';
import { DynamoMerchantStore } from '../../lambdas/adapters/dynamo-merchant-store';
import { DynamoWalletLedger } from '../../lambdas/adapters/dynamo-wallet-ledger';
import { WALLET_ID_PATTERN, type WalletLedger } from '../../lambdas/core/requests/wallet';
import { DEMO_MERCHANT_ID } from '../local/runtime';
import { CliFailedError, CliUsageError, withTarget } from './context';
import { printJson, printText } from './output';

export const USAGE = `Usage:
  herald wallets credit <wallet-id> <amount-cents> --merchant ID [--reference REF] [--json] <target>
  herald wallets show <wallet-id> --merchant ID [--json] <target>

credit      adds money to the merchant's wallet (created if new); the same --reference credits only once
show        prints the balance of the merchant's wallet in cents
--merchant  whose wallet it is; with --local, the demo merchant ${DEMO_MERCHANT_ID} by default`;

/** Credits one merchant's wallet once per reference; returns what happened and the balance after it. */
export async function creditWallet(
  ledger: WalletLedger,
  merchantId: string,
  walletId: string,
  amountCents: number,
  reference: string,
): Promise<{ applied: boolean; balanceCents: number }> {
  const outcome = await ledger.apply(merchantId, { reference: `credit-${reference}`, entry: 'credit', walletId, amountCents, note: 'operator credit' });
  const wallet = await ledger.wallet(merchantId, walletId);
  return { applied: outcome.outcome === 'applied', balanceCents: wallet?.balanceCents ?? 0 };
}

export async function run(argv: string[]): Promise<void> {
  const options = { reference: { type: 'string' }, merchant: { type: 'string' } } as const;
  await withTarget(argv, options, USAGE, async (target, { values, positionals }) => {
    const [action, walletId, amount, ...extra] = positionals;
    if (!walletId || !WALLET_ID_PATTERN.test(walletId) || extra.length > 0) throw new CliUsageError(USAGE);
    const merchantId = (values.merchant as string | undefined) ?? (target.kind === 'local' ? DEMO_MERCHANT_ID : undefined);
    if (!merchantId) throw new CliUsageError(`Name the merchant whose wallet it is: --merchant <merchant id>\n\n${USAGE}`);
    // A typo in the merchant would otherwise create a wallet nobody can spend from.
    if (!(await new DynamoMerchantStore(target.dynamo, target.tableName).getMerchant(merchantId))) {
      throw new CliFailedError(`No merchant ${merchantId} in ${target.description}`);
    }
    const ledger = new DynamoWalletLedger(target.dynamo, target.tableName);
    if (action === 'show' && amount === undefined) {
      const wallet = await ledger.wallet(merchantId, walletId);
      if (values.json) printJson(wallet ?? { merchantId, walletId, exists: false });
      else
        printText(
          wallet
            ? `${walletId} (merchant ${merchantId}): ${wallet.balanceCents} cents (updated ${wallet.updatedAt})`
            : `${walletId} (merchant ${merchantId}): no such wallet`,
        );
      return;
    }
    if (action !== 'credit') throw new CliUsageError(USAGE);
    const amountCents = Number(amount);
    if (!Number.isInteger(amountCents) || amountCents < 1) throw new CliUsageError('The amount is a whole number of cents, at least 1');
    const reference = (values.reference as string | undefined) ?? randomUUID();
    const { applied, balanceCents } = await creditWallet(ledger, merchantId, walletId, amountCents, reference);
    if (values.json) {
      printJson({ merchantId, walletId, amountCents, reference, applied, balanceCents });
      return;
    }
    printText(
      applied
        ? `Credited ${amountCents} cents to ${walletId} of merchant ${merchantId} (reference ${reference}); balance ${balanceCents} cents`
        : `Reference ${reference} was already credited to ${walletId} of merchant ${merchantId}; nothing changed; balance ${balanceCents} cents`,
    );
  });
}
