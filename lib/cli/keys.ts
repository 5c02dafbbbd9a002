/**
 * `herald keys create|list|revoke --merchant ID`: a merchant's API keys. A new key is printed
 * once; a revoked key is refused by the authorizer at once for new connections and at the latest
 * after the authorizer cache TTL for callers whose decision is cached.
 */
import { DynamoMerchantStore } from '../../lambdas/adapters/dynamo-merchant-store';
import type { ApiKeyRecord } from '../../lambdas/core/merchants/merchant';
import { AUTHORIZER_CACHE_TTL_SECONDS } from '../../lambdas/settings/api';
import { CliFailedError, CliUsageError, withTarget } from './context';
import { printJson, printText } from './output';

export const USAGE = `Usage: herald keys create --merchant ID [--json] <target>
       herald keys list --merchant ID [--json] <target>
       herald keys revoke <key id> --merchant ID [--json] <target>`;

/** One line per key: id, hint (the first characters), dates; never the digest. */
export function describeKey(key: ApiKeyRecord): string {
  const state = key.revokedAt ? `revoked ${key.revokedAt}` : 'active';
  return `${key.keyId}  ${key.hint}…  created ${key.createdAt}  ${state}`;
}

export async function run(argv: string[]): Promise<void> {
  await withTarget(argv, { merchant: { type: 'string' }, json: { type: 'boolean' } }, USAGE, async (target, { values, positionals }) => {
    const merchantId = values.merchant === undefined ? undefined : String(values.merchant);
    if (!merchantId) throw new CliUsageError(`--merchant is required\n\n${USAGE}`);
    const merchants = new DynamoMerchantStore(target.dynamo, target.tableName);
    if (!(await merchants.getMerchant(merchantId))) throw new CliFailedError(`No merchant ${merchantId} in ${target.description}`);
    const [action, ...rest] = positionals;
    const print = (json: unknown, text: string) => (values.json ? printJson(json) : printText(text));

    switch (action) {
      case 'create': {
        if (rest.length) throw new CliUsageError(USAGE);
        const { key, record } = await merchants.createApiKey(merchantId);
        print(
          { merchantId, keyId: record.keyId, apiKey: key },
          `New API key for ${merchantId}: ${key}\n  key id ${record.keyId}\nShown only now: Herald keeps only its SHA-256.`,
        );
        return;
      }
      case 'list': {
        if (rest.length) throw new CliUsageError(USAGE);
        const keys = await merchants.listApiKeys(merchantId);
        const shown = keys.map(({ keyHash: _hash, ...key }) => key);
        print(shown, keys.length ? keys.map(describeKey).join('\n') : `${merchantId} has no API keys`);
        return;
      }
      case 'revoke': {
        const keyId = rest[0];
        if (!keyId || rest.length > 1) throw new CliUsageError(`keys revoke takes one key id\n\n${USAGE}`);
        const revoked = await merchants.revokeApiKey(merchantId, keyId);
        print(
          { merchantId, keyId, revokedAt: revoked.revokedAt },
          `Revoked ${keyId} at ${revoked.revokedAt}. Callers whose authorization is cached can use it for at most ` +
            `${AUTHORIZER_CACHE_TTL_SECONDS} s more (the authorizer cache TTL).`,
        );
        return;
      }
      default:
        throw new CliUsageError(USAGE);
    }
  });
}
