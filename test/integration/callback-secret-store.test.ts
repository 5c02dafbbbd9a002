import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoClient } from '../../lambdas/adapters/aws-clients';
import { DynamoCallbackSecretStore } from '../../lambdas/adapters/dynamo-callback-secret-store';
import { callbackSecret } from '../../lambdas/core/webhooks/callback-secret';
import type { CallbackSecrets } from '../../lambdas/core/webhooks/callbacks';
import { generateSigningSecret } from '../../lambdas/core/webhooks/endpoint';
import { provisionForTest } from '../support/endpoints';

/** The callback secret store against DynamoDB Local: the secrets table, the marker in the table, and their conditions. */
let tableName: string;
let secretsTableName: string;

beforeAll(async () => {
  const resources = await provisionForTest('callback-secrets');
  tableName = resources.tableName;
  secretsTableName = resources.secretsTableName;
});

const store = (withSecrets = true) => new DynamoCallbackSecretStore(dynamoClient(), tableName, 0, withSecrets ? secretsTableName : undefined);

let merchants = 0;
const newMerchantId = () => `mer_callback${++merchants}`;

const secretsOf = (merchantId: string, version = 1): CallbackSecrets => {
  const at = new Date().toISOString();
  return { merchantId, secret: { secret: generateSigningSecret(), createdAt: at }, version, createdAt: at, updatedAt: at };
};

describe('DynamoCallbackSecretStore', () => {
  it('stores the secret in the secrets table only, and a marker without it that submit can read', async () => {
    const merchantId = newMerchantId();
    const secrets = secretsOf(merchantId);
    expect(await store(false).exists(merchantId)).toBe(false);

    expect(await store().create(secrets)).toBe('created');

    // Submit holds no grant on the secrets table: the marker alone answers it.
    expect(await store(false).exists(merchantId)).toBe(true);
    expect(await store().get(merchantId)).toEqual(secrets);
    const { Item: marker } = await dynamoClient().send(new GetCommand({ TableName: tableName, Key: { pk: `MER#${merchantId}`, sk: 'CALLBACK#SECRET' } }));
    expect(JSON.stringify(marker)).not.toContain(secrets.secret.secret);
    await expect(store(false).get(merchantId)).rejects.toThrow(/not granted/);
  });

  it('creates one secret per merchant: a second create finds it and changes nothing', async () => {
    const merchantId = newMerchantId();
    const first = secretsOf(merchantId);
    expect(await store().create(first)).toBe('created');
    expect(await store().create(secretsOf(merchantId))).toBe('exists');
    expect(await store().get(merchantId)).toEqual(first);
  });

  it('replaces the secrets only at the version read', async () => {
    const merchantId = newMerchantId();
    await store().create(secretsOf(merchantId));
    const rotated = { ...secretsOf(merchantId, 2) };
    expect(await store().replace(rotated, 1)).toBe(true);
    expect(await store().replace(secretsOf(merchantId, 3), 1)).toBe(false);
    expect(await store().get(merchantId)).toEqual(rotated);
  });

  it('keeps one merchant\'s secret from another', async () => {
    const a = newMerchantId();
    const b = newMerchantId();
    await store().create(secretsOf(a));
    expect(await store().get(b)).toBeUndefined();
    expect(await store(false).exists(b)).toBe(false);
  });

  it('rotates through the use case, keeping the old secret beside the new one until the overlap ends', async () => {
    const merchantId = newMerchantId();
    const deps = { secrets: store(), previousSecretHours: 24 };
    const created = await callbackSecret.show(deps, merchantId);
    const rotated = await callbackSecret.rotate(deps, merchantId);
    const stored = await store().get(merchantId);
    expect(stored?.secret.secret).toBe(rotated.secret);
    expect(stored?.previousSecret?.secret).toBe(created.view.secret);
    expect(Date.parse(stored!.previousSecret!.expiresAt!) - Date.parse(stored!.secret.createdAt)).toBe(24 * 3_600_000);
  });
});
