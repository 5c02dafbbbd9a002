/**
 * `herald merchants create --name N [--email E]`: creates a merchant and its first API key, and
 * prints the key once: only its SHA-256 is stored, so it cannot be shown again.
 * `herald merchants show <merchant id>`: the merchant and its keys (hints only).
 */
import { DynamoMerchantStore } from '../../lambdas/adapters/dynamo-merchant-store';
import { CliFailedError, CliUsageError, withTarget } from './context';
import { describeKey } from './keys';
import { printJson, printText, withoutControls } from './output';

export const USAGE = `Usage: herald merchants create --name NAME [--email EMAIL] [--json] <target>
       herald merchants show <merchant id> [--json] <target>`;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export async function run(argv: string[]): Promise<void> {
  await withTarget(
    argv,
    { name: { type: 'string' }, email: { type: 'string' }, json: { type: 'boolean' } },
    USAGE,
    async (target, { values, positionals }) => {
      const merchants = new DynamoMerchantStore(target.dynamo, target.tableName);
      const [action, ...rest] = positionals;
      if (action === 'create') {
        const name = String(values.name ?? '').trim();
        const email = values.email === undefined ? undefined : String(values.email);
        if (!name || name.length > 200) throw new CliUsageError(`--name is required (1 to 200 characters)\n\n${USAGE}`);
        if (email !== undefined && !EMAIL.test(email)) throw new CliUsageError(`--email "${email}" is not an email address`);
        if (rest.length) throw new CliUsageError(`Unexpected arguments: ${rest.join(' ')}\n\n${USAGE}`);
        const merchant = await merchants.createMerchant({ name, ...(email ? { email } : {}) });
        const { key, record } = await merchants.createApiKey(merchant.id);
        if (values.json) {
          printJson({ merchantId: merchant.id, name: merchant.name, apiKey: key, keyId: record.keyId });
          return;
        }
        printText(
          [
            `Created merchant ${merchant.id} (${withoutControls(merchant.name)}) in ${target.description}.`,
            `  merchant id  ${merchant.id}`,
            `  API key      ${key}`,
            `  key id       ${record.keyId}`,
            '',
            'The API key is shown only now: store it in your secrets manager. Herald keeps only its SHA-256.',
            ...(target.apiUrl
              ? ['', 'Try it:', `  curl -s ${target.apiUrl.replace(/\/$/, '')}/v1/requests -H "Authorization: Bearer ${key}"`]
              : []),
          ].join('\n'),
        );
        return;
      }
      if (action === 'show') {
        const id = rest[0];
        if (!id || rest.length > 1) throw new CliUsageError(`merchants show takes one merchant id\n\n${USAGE}`);
        const merchant = await merchants.getMerchant(id);
        if (!merchant) throw new CliFailedError(`No merchant ${id} in ${target.description}`);
        const keys = await merchants.listApiKeys(id);
        if (values.json) {
          printJson({ ...merchant, keys: keys.map(({ keyHash: _hash, ...key }) => key) });
          return;
        }
        printText(`${merchant.id}  ${withoutControls(merchant.name)}${merchant.email ? ` <${withoutControls(merchant.email)}>` : ''}  created ${merchant.createdAt}`);
        for (const key of keys) printText(`  ${describeKey(key)}`);
        return;
      }
      throw new CliUsageError(USAGE);
    },
  );
}
