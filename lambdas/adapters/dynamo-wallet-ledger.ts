import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BalanceChangeOutcome, LedgerEntry, Wallet, WalletLedger } from '../core/wallet';

// Merchant ids and wallet ids never contain '#', so the merchant prefix cannot be forged by an id.
export const walletKey = (merchantId: string, walletId: string) => ({ pk: `WALLET#${merchantId}#${walletId}`, sk: 'WALLET' });
const ledgerPartition = (merchantId: string, reference: string) => `LEDGER#${merchantId}#${reference}`;
export const ledgerKey = (merchantId: string, reference: string, entry: string) => ({ pk: ledgerPartition(merchantId, reference), sk: `ENTRY#${entry}` });

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
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: { ...ledgerKey(merchantId, change.reference, change.entry), ...entry, merchantId },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: walletKey(merchantId, change.walletId),
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
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [entryReason, walletReason] = error.CancellationReasons ?? [];
      if (entryReason?.Code === 'ConditionalCheckFailed') return { outcome: 'already-applied' };
      if (walletReason?.Code === 'ConditionalCheckFailed') {
        return walletReason.Item ? { outcome: 'insufficient-funds' } : { outcome: 'unknown-wallet' };
      }
      // A concurrent transaction on the same items (TransactionConflict): the caller retries.
      throw error;
    }
    return { outcome: 'applied' };
  }

  async entries(merchantId: string, reference: string): Promise<LedgerEntry[]> {
    const entries: LedgerEntry[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page: { Items?: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :entry)',
          ExpressionAttributeValues: { ':pk': ledgerPartition(merchantId, reference), ':entry': 'ENTRY#' },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const { pk: _pk, sk: _sk, merchantId: _merchant, ...entry } = item;
        entries.push(entry as unknown as LedgerEntry);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return entries;
  }

  async wallet(merchantId: string, walletId: string): Promise<Wallet | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: walletKey(merchantId, walletId), ConsistentRead: true }),
    );
    return Item ? { walletId, balanceCents: Number(Item.balanceCents), updatedAt: String(Item.updatedAt) } : undefined;
  }
}
