import { startDynamoDbLocal } from '../../lib/local/dynamodb-local';
import { startFauxqs } from '../../lib/local/fauxqs';

/**
 * One DynamoDB Local and one fauxqs for the whole test run (DynamoDB Local takes seconds to
 * start). Test files find them through the environment and create their own uniquely named
 * table and queues, so files running in parallel never meet.
 */
export default async function globalSetup(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const [dynamodb, sqsSns] = await Promise.all([startDynamoDbLocal({ heapMb: 512 }), startFauxqs()]);
  process.env.HERALD_TEST_DYNAMODB_ENDPOINT = dynamodb.endpoint;
  process.env.HERALD_TEST_SQS_SNS_ENDPOINT = sqsSns.endpoint;
  (globalThis as Record<string, unknown>).__heraldEndpoints = [dynamodb, sqsSns];
}
