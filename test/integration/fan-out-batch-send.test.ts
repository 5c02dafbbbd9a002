import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { dynamoClient, sqsClient } from '../../lambdas/adapters/aws-clients';
import { keys } from '../../lambdas/adapters/dynamo/keys';
import { DynamoWebhookEndpointStore } from '../../lambdas/adapters/dynamo-webhook-endpoint-store';
import { SqsDeliveryQueue } from '../../lambdas/adapters/sqs-delivery-queue';
import { parseDeliveryMessage, type DeliveryMessage } from '../../lambdas/core/webhooks/delivery-message';
import { generateSigningSecret, type WebhookEndpoint } from '../../lambdas/core/webhooks/endpoint';
import { apiEvent, invoke, lambdaContext } from '../support/api-events';
import { provisionForTest } from '../support/endpoints';
import { acknowledge, receiveFor, testDeliveryMessageKey } from '../support/sqs-records';

/** SQS refuses a body holding a character outside XML's range, per entry: a partial failure of a batch call. */
const UNSENDABLE = '\uFFFF';

let sqs: SQSClient;
let sqsEndpoint: string;
let deliveriesUrl: string;
let requestsQueue: { url: string; arn: string };
let tableName: string;
let endpoints: DynamoWebhookEndpointStore;
let handlers: { submit: unknown; process: (event: SQSEvent, context: unknown) => Promise<SQSBatchResponse> };

/** SendMessageBatch calls made through `client`, with their entry counts. */
function countBatchCalls(client: SQSClient): number[] {
  const calls: number[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'SendMessageBatchCommand') calls.push((args.input as { Entries: unknown[] }).Entries.length);
      return next(args);
    },
    { step: 'initialize', name: `countBatchCalls${Math.random()}` },
  );
  return calls;
}

beforeAll(async () => {
  const resources = await provisionForTest('fan-out-batch-send');
  sqsEndpoint = resources.endpoints.sqs;
  sqs = new SQSClient({ endpoint: sqsEndpoint });
  deliveriesUrl = resources.queues.deliveries.url;
  requestsQueue = { url: resources.queues.requests.url, arn: resources.queues.requests.arn };
  tableName = resources.tableName;
  endpoints = new DynamoWebhookEndpointStore(dynamoClient(), resources.tableName, 0, resources.secretsTableName);
  handlers = {
    submit: (await import('../../lambdas/handlers/submit-request')).handler,
    process: (await import('../../lambdas/handlers/process-requests')).handler as never,
  };
});

afterAll(() => sqs.destroy());

async function drainDeliveries(): Promise<DeliveryMessage[]> {
  const found: DeliveryMessage[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: deliveriesUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (Messages.length === 0) return found;
    found.push(...Messages.map((m) => parseDeliveryMessage(m.Body!)!));
  }
}

const message = (deliveryId: string, extra: Partial<DeliveryMessage> = {}): DeliveryMessage => ({
  deliveryId,
  merchantId: 'mer_batch',
  endpointId: 'ep_batch',
  subjectId: `req_${deliveryId}`,
  eventType: 'request.succeeded',
  eventTimestamp: new Date().toISOString(),
  round: 1,
  ...extra,
});

describe('the delivery queue sending many messages', () => {
  it('sends what it can and names the messages SQS refused, in one call', async () => {
    await drainDeliveries();
    const client = new SQSClient({ endpoint: sqsEndpoint });
    const calls = countBatchCalls(client);
    const queue = new SqsDeliveryQueue(client, deliveriesUrl, testDeliveryMessageKey());

    const unsent = await queue.sendEach([message('dlv_ok1'), message('dlv_bad', { payload: `{"note":"${UNSENDABLE}"}` }), message('dlv_ok2')]);

    expect(unsent).toEqual([1]);
    expect((await drainDeliveries()).map((m) => m.deliveryId).sort()).toEqual(['dlv_ok1', 'dlv_ok2']);
    // A refusal that is the sender's fault would fail again: it is not retried.
    expect(calls).toEqual([3]);
    client.destroy();
  });

  it('splits a send that would pass 256 KiB into calls that do not, losing nothing', async () => {
    await drainDeliveries();
    const client = new SQSClient({ endpoint: sqsEndpoint });
    const calls = countBatchCalls(client);
    const queue = new SqsDeliveryQueue(client, deliveriesUrl, testDeliveryMessageKey());
    const large = (id: string) => message(id, { payload: JSON.stringify({ text: 'x'.repeat(100 * 1024) }) });

    expect(await queue.sendEach([large('dlv_l1'), large('dlv_l2'), large('dlv_l3'), message('dlv_s1')])).toEqual([]);

    expect((await drainDeliveries()).map((m) => m.deliveryId).sort()).toEqual(['dlv_l1', 'dlv_l2', 'dlv_l3', 'dlv_s1']);
    expect(calls).toEqual([2, 2]);
    client.destroy();
  });
});

describe('the process worker fanning out a batch', () => {
  let submitted = 0;
  async function submitFor(merchantId: string): Promise<SQSRecord> {
    const response = await invoke(
      handlers.submit,
      apiEvent({
        method: 'POST',
        path: '/v1/requests',
        headers: { 'idempotency-key': `batch-send-${++submitted}` },
        body: { type: 'demo.sleep', payload: { ms: 0 } },
        merchantId,
      }),
    );
    expect(response.status).toBe(202);
    const [record] = await receiveFor(sqs, requestsQueue, response.body!.id as string);
    expect(record).toBeDefined();
    return record!;
  }

  async function endpointFor(merchantId: string): Promise<WebhookEndpoint> {
    const at = new Date().toISOString();
    const endpoint: WebhookEndpoint = {
      id: `ep_${Math.random().toString(36).slice(2, 12)}`,
      merchantId,
      url: 'https://hooks.example.com/batch',
      status: 'enabled',
      secret: { secret: generateSigningSecret(), createdAt: at },
      version: 1,
      createdAt: at,
      updatedAt: at,
    };
    expect(await endpoints.create(endpoint, 20)).toBe('created');
    return endpoint;
  }

  async function processBatch(records: SQSRecord[]): Promise<string[]> {
    const response = await handlers.process({ Records: records }, lambdaContext(60_000));
    const failed = (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
    for (const record of records) if (!failed.includes(record.messageId)) await acknowledge(sqs, requestsQueue.url, record);
    return failed;
  }

  it('sends the delivery messages of every record of a batch in one SendMessageBatch call', async () => {
    const endpoint = await endpointFor('mer_batch_all');
    const records = [await submitFor('mer_batch_all'), await submitFor('mer_batch_all'), await submitFor('mer_batch_all'), await submitFor('mer_batch_all')];
    await drainDeliveries();
    const calls = countBatchCalls(sqsClient());

    expect(await processBatch(records)).toEqual([]);

    const requestIds = records.map((r) => JSON.parse(r.body).requestId as string).sort();
    const sent = await drainDeliveries();
    expect(sent.map((m) => m.subjectId).sort()).toEqual(requestIds);
    expect(sent.every((m) => m.endpointId === endpoint.id)).toBe(true);
    expect(calls).toEqual([4]);
  });

  it('gives back only the record whose delivery message SQS refused; its neighbours\' messages are sent', async () => {
    await endpointFor('mer_batch_part');
    const records = [await submitFor('mer_batch_part'), await submitFor('mer_batch_part'), await submitFor('mer_batch_part')];
    const ids = records.map((r) => JSON.parse(r.body).requestId as string);
    // The middle request already finished with a result SQS cannot carry: its message finds it
    // finished and fans out again, the way a worker that died after finishing leaves it.
    await dynamoClient().send(
      new UpdateCommand({
        TableName: tableName,
        Key: keys.request(ids[1]!),
        UpdateExpression: 'SET #status = :succeeded, #result = :result',
        ExpressionAttributeNames: { '#status': 'status', '#result': 'result' },
        ExpressionAttributeValues: { ':succeeded': 'succeeded', ':result': { note: UNSENDABLE } },
      }),
    );
    await drainDeliveries();

    const failed = await processBatch(records);

    expect(failed).toEqual([records[1]!.messageId]);
    expect((await drainDeliveries()).map((m) => m.subjectId).sort()).toEqual([ids[0], ids[2]].sort());
  });
});
