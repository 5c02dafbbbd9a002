/**
 * Wallets and their ledger: what the `wallet.debit` saga changes. A balance moves only together
 * with a ledger entry keyed by (reference, entry), in one transaction, so replaying a step (a
 * duplicate message, a retried attempt) finds its entry and changes nothing the second time.
 *
 * Wallets belong to a merchant: every operation names the merchant, and a wallet id means a
 * different wallet under each merchant. A merchant therefore cannot reach, and cannot learn
 * anything about, another merchant's wallet: to it, that wallet simply does not exist.
 */

/** One applied balance change. `reference` is the request id (or an operator's top-up reference). */
export interface LedgerEntry {
  readonly reference: string;
  /** Names the step within the reference, e.g. `0-debit` or `undo-0-debit`. */
  readonly entry: string;
  readonly walletId: string;
  /** Signed: negative takes money out of the wallet, positive puts it in. */
  readonly amountCents: number;
  readonly at: string;
  readonly note?: string;
}

/** What became of a change; a refusal carries no balance, so no message built from it can reveal one. */
export type BalanceChangeOutcome =
  | { readonly outcome: 'applied' }
  | { readonly outcome: 'already-applied' }
  | { readonly outcome: 'insufficient-funds' }
  | { readonly outcome: 'unknown-wallet' };

export interface Wallet {
  readonly walletId: string;
  readonly balanceCents: number;
  readonly updatedAt: string;
}

/** Every method is scoped to one merchant's wallets and ledger; nothing crosses merchants. */
export interface WalletLedger {
  /**
   * Applies a signed change to one of the merchant's wallets once per (reference, entry): a
   * debit only if the wallet exists and holds enough, so a balance never goes negative; a credit
   * creates the wallet if needed.
   */
  apply(merchantId: string, change: Omit<LedgerEntry, 'at'>, now?: Date): Promise<BalanceChangeOutcome>;
  /** Every entry the merchant's ledger holds under a reference, in entry order. */
  entries(merchantId: string, reference: string): Promise<LedgerEntry[]>;
  wallet(merchantId: string, walletId: string): Promise<Wallet | undefined>;
}

/** Wallet ids are short, printable and safe inside a table key. */
export const WALLET_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
