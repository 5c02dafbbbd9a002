import { randomBytes } from 'node:crypto';
import { ENV } from '../../lambdas/settings/environment';
import { localResourceNames } from '../../lib/topology';
import { provision, type LocalEndpoints, type ProvisionedResources, type ResourceNames } from '../../lib/local/provision';

/** The public base URL the handlers of integration tests build links on. */
export const TEST_PUBLIC_BASE_URL = 'https://herald.test';

/** The endpoints the global setup started for this test run. */
export function sharedEndpoints(): LocalEndpoints {
  const dynamodb = process.env.HERALD_TEST_DYNAMODB_ENDPOINT;
  const sqsSns = process.env.HERALD_TEST_SQS_SNS_ENDPOINT;
  if (!dynamodb || !sqsSns) throw new Error('The shared test endpoints are not running (jest globalSetup)');
  // fauxqs serves S3 on the same port as SQS and SNS.
  return { dynamodb, sqs: sqsSns, sns: sqsSns, s3: sqsSns };
}

/** Names no other test file uses, so files can share the endpoints and run in parallel. */
export function uniqueNames(label: string): ResourceNames {
  return localResourceNames(`t-${label}-${randomBytes(4).toString('hex')}`);
}

/**
 * Provisions this file's own table, queues and topic from the topology and points the handlers'
 * environment at them, exactly as the local runtime does.
 */
export async function provisionForTest(label: string): Promise<ProvisionedResources & { endpoints: LocalEndpoints }> {
  const endpoints = sharedEndpoints();
  const resources = await provision(endpoints, uniqueNames(label));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_SNS: endpoints.sns,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    [ENV.tableName]: resources.tableName,
    [ENV.secretsTableName]: resources.secretsTableName,
    [ENV.bodiesBucket]: resources.bodiesBucket,
    [ENV.requestsQueueUrl]: resources.queues.requests.url,
    [ENV.deliveriesQueueUrl]: resources.queues.deliveries.url,
    [ENV.notificationsTopicArn]: resources.topicArns.notifications,
    [ENV.retryScale]: '0',
    [ENV.publicBaseUrl]: TEST_PUBLIC_BASE_URL,
  });
  return { ...resources, endpoints };
}
