import { GetCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BalanceChangeOutcome, LedgerEntry, Wallet, WalletLedger } from '../core/requests/wallet';
import { unlessTransactionCancelled } from './dynamo/conditions';
import { keys, ledgerEntryFromItem, ledgerEntryToItem, walletFromItem } from './dynamo/keys';
import { queryKeyRange } from './dynamo/key-range-query';

/**
 * Wallet balances and their ledger in the single table. Each change is one TransactWriteItems:
 * the balance update (a debit conditional on the wallet holding enough) and the ledger entry
 * (conditional on not existing yet). Either both apply or neither, so a step replayed by a
 * duplicate message or a retried attempt changes the balance once, and a balance never goes
 * negative. Both keys start with the merchant, so one merchant's ids never reach another's items.
 */
export class DynamoWalletLedger implements WalletLedger {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async apply(merchantId: string, change: Omit<LedgerEntry, 'at'>, now = new Date()): Promise<BalanceChangeOutcome> {
    const at = now.toISOString();
    const debit = change.amountCents < 0;
    const entry: LedgerEntry = { ...change, at };
    return unlessTransactionCancelled(
      async (): Promise<BalanceChangeOutcome> => {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: ledgerEntryToItem(merchantId, entry),
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              {
                Update: {
                  TableName: this.tableName,
                  Key: keys.wallet(merchantId, change.walletId),
                  UpdateExpression: 'SET balanceCents = if_not_exists(balanceCents, :zero) + :amount, updatedAt = :at, walletId = :id, merchantId = :merchant',
                  ...(debit ? { ConditionExpression: 'attribute_exists(pk) AND balanceCents >= :needed' } : {}),
                  ExpressionAttributeValues: {
                    ':zero': 0,
                    ':amount': change.amountCents,
                    ':at': at,
                    ':id': change.walletId,
                    ':merchant': merchantId,
                    ...(debit ? { ':needed': -change.amountCents } : {}),
                  },
                  // Only whether the wallet exists is needed, never its balance.
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              },
            ],
          }),
        );
        return { outcome: 'applied' };
      },
      ([entryReason, walletReason], error): BalanceChangeOutcome => {
        if (entryReason?.conditionFailed) return { outcome: 'already-applied' };
        if (walletReason?.conditionFailed) return walletReason.current ? { outcome: 'insufficient-funds' } : { outcome: 'unknown-wallet' };
        // A concurrent transaction on the same items (TransactionConflict): the caller retries.
        throw error;
      },
    );
  }

  async entries(merchantId: string, reference: string): Promise<LedgerEntry[]> {
    const items = await queryKeyRange(this.client, this.tableName, keys.ledger(merchantId, reference), { consistentRead: true });
    return items.map(ledgerEntryFromItem);
  }

  async wallet(merchantId: string, walletId: string): Promise<Wallet | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.wallet(merchantId, walletId), ConsistentRead: true }),
    );
    return Item ? walletFromItem(walletId, Item) : undefined;
  }
}
