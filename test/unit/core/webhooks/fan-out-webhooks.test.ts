import { deliverWebhook } from '../../../../lambdas/core/webhooks/deliver-webhook';
import { WebhookFanOut } from '../../../../lambdas/core/webhooks/fan-out-webhooks';
import { processRequest, type ProcessDependencies } from '../../../../lambdas/core/requests/process-request';
import { type DeliveryMessage } from '../../../../lambdas/core/webhooks/delivery-message';
import { requestRetrySchedule } from '../../../../lambdas/settings/retry';
import { InMemoryRedriveLog, InMemoryRequestQueue, InMemoryRequestStore } from '../../../support/core/requests/in-memory-ports';
import {
  InMemoryDeliveryQueue,
  InMemoryDeliveryStore,
  InMemoryWebhookEndpointStore,
  ScriptedWebhookTransport,
} from '../../../support/core/webhooks/in-memory-ports';
import { deliverDependencies, webhookEndpoint } from '../../../support/core/webhooks/fixtures';
import { storedRequest } from '../../../support/request-fixtures';
import { echo, noServices, registryOf } from '../../../support/test-processors';

const NOW = new Date('2026-03-10T12:00:00Z');

const endpoint = webhookEndpoint({ merchantId: 'mer_a' });

/** A deliveries queue whose sends fail until told otherwise, as SendMessageBatch does when SQS refuses entries. */
class RefusingDeliveryQueue extends InMemoryDeliveryQueue {
  refusing = true;

  override async send(messages: readonly DeliveryMessage[]): Promise<void> {
    if (this.refusing) throw new Error(`${messages.length} delivery messages were not sent: ServiceUnavailable`);
    await super.send(messages);
  }
}

/** The process worker with the webhook fan-out as its only listener, and the deliver worker behind it. */
function setup() {
  const endpoints = new InMemoryWebhookEndpointStore();
  endpoints.seed(endpoint);
  const deliveryQueue = new RefusingDeliveryQueue();
  const deliveries = new InMemoryDeliveryStore();
  const requests = new InMemoryRequestStore({ now: () => NOW });
  requests.seed(storedRequest('req_1', { merchantId: 'mer_a', type: 'test.echo', payload: { text: 'hi' }, createdAt: '2026-03-10T11:59:00.000Z' }));
  const process: ProcessDependencies = {
    store: requests,
    queue: new InMemoryRequestQueue(),
    events: new WebhookFanOut({ endpoints, queue: deliveryQueue }),
    redrives: new InMemoryRedriveLog(),
    queueName: 'requests',
    processorFor: registryOf(echo).processorFor,
    services: noServices,
    retry: requestRetrySchedule,
    maxReceiveCount: 5,
    retryScale: 1,
    remainingTimeMs: () => 60_000,
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    random: () => 0.5,
    now: () => NOW,
  };
  const transport = new ScriptedWebhookTransport({ status: 204, latencyMs: 2 });
  const deliver = deliverDependencies({ endpoints, deliveries, transport }, { queue: deliveryQueue, loadRequest: (id) => requests.get(id), now: () => NOW });
  const deliverSent = async () => {
    const sent = deliveryQueue.sent.splice(0);
    return Promise.all(sent.map((message, i) => deliverWebhook(deliver, { message, receiveCount: 1, receiptHandle: `rh-${i}` })));
  };
  return { process, deliveryQueue, deliveries, transport, deliverSent };
}

const processMessage = (receiveCount: number) => ({ requestId: 'req_1', type: 'test.echo', receiveCount, receiptHandle: 'rh-p' });

describe('the webhook fan-out behind the process worker', () => {
  it('fails the process message when its delivery messages are not sent, and its redelivery sends them', async () => {
    const h = setup();

    // Nothing records a delivery before its first attempt, so no sweeper could find these: the message must come back.
    await expect(processRequest(h.process, processMessage(1))).rejects.toThrow(/not sent/);
    expect(h.deliveryQueue.sent).toEqual([]);
    expect(await h.deliveries.listForSubject('req_1')).toEqual([]);

    h.deliveryQueue.refusing = false;
    expect(await processRequest(h.process, processMessage(2))).toMatchObject({ kind: 'skipped' });
    expect(h.deliveryQueue.sent).toEqual([expect.objectContaining({ deliveryId: 'dlv_req_1.ep_1.succeeded', round: 1 })]);
  });

  it('posts once however often the request\'s end is announced', async () => {
    const h = setup();
    h.deliveryQueue.refusing = false;

    await processRequest(h.process, processMessage(1));
    await h.deliverSent();
    // The process message came back after the request finished: the fan-out runs again.
    await processRequest(h.process, processMessage(2));
    expect(h.deliveryQueue.sent).toHaveLength(1);
    expect(await h.deliverSent()).toEqual([expect.objectContaining({ kind: 'dropped', reason: expect.stringMatching(/already succeeded/) })]);

    expect(h.transport.posts).toHaveLength(1);
    expect(h.transport.posts[0]!.headers['webhook-id']).toBe('dlv_req_1.ep_1.succeeded');
    expect(await h.deliveries.listForSubject('req_1')).toEqual([expect.objectContaining({ state: 'succeeded', round: 1 })]);
  });
});
