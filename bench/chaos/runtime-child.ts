/**
 * The local runtime as the chaos run starts it (and kills, and starts again): on its data
 * directory, with the chaos processor writing to the run's ledger, the fault switches at
 * `/local/faults`, a second merchant, and schedules every few seconds. Configured through the
 * environment by `run.ts`; not meant to be started by hand.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoMerchantStore } from '../../lambdas/adapters/dynamo-merchant-store';
import { dynamoClient } from '../../lambdas/adapters/aws-clients';
import { startLocalRuntime } from '../../lib/local/runtime';

async function main(): Promise<void> {
  const required = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  const runtime = await startLocalRuntime({
    port: Number(required('PORT')),
    dataDir: required('HERALD_CHAOS_DATA_DIR'),
    apiKey: required('HERALD_LOCAL_API_KEY'),
    chaos: { ledgerUrl: required('HERALD_CHAOS_LEDGER_URL') },
    schedulePeriodMs: Number(process.env.HERALD_CHAOS_SCHEDULE_MS ?? 5_000),
  });
  const merchants = new DynamoMerchantStore(dynamoClient(), runtime.resources.tableName);
  const [otherMerchant, otherKey] = required('HERALD_CHAOS_OTHER_MERCHANT').split(':') as [string, string];
  try {
    await merchants.createMerchant({ id: otherMerchant, name: 'Chaos run, second merchant' });
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
  if (!(await merchants.findActiveApiKey(otherKey))) await merchants.createApiKey(otherMerchant, otherKey);
  console.log(`Chaos runtime ready at ${runtime.url}`);

  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    void runtime.stop().then(() => process.exit(0));
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
