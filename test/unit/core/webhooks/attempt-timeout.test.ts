import { deliverWebhook } from '../../../../lambdas/core/webhooks/deliver-webhook';
import { type PostResult, type WebhookTransport } from '../../../../lambdas/core/webhooks/webhook-attempt';
import { InMemoryDeliveryStore, InMemoryWebhookEndpointStore } from '../../../support/core/webhooks/in-memory-ports';
import { deliverDependencies, deliveryMessage, webhookEndpoint } from '../../../support/core/webhooks/fixtures';

const NOW = new Date('2026-03-10T12:00:00Z');

const message = deliveryMessage();

/** A receiver that never answers in time, and keeps the budget each POST was given. */
class HangingTransport implements WebhookTransport {
  readonly budgets: (number | undefined)[] = [];

  async post(_url: string, _headers: Record<string, string>, _body: string, options?: { readonly timeoutMs?: number }): Promise<PostResult> {
    this.budgets.push(options?.timeoutMs);
    return { error: 'timeout', errorMessage: 'no answer', latencyMs: options?.timeoutMs ?? 10_000 };
  }
}

function harness(firstAttemptTimeoutMs: number | undefined) {
  const endpoints = new InMemoryWebhookEndpointStore();
  endpoints.seed(webhookEndpoint());
  const transport = new HangingTransport();
  const deps = deliverDependencies(
    { endpoints, deliveries: new InMemoryDeliveryStore(), transport },
    { now: () => NOW, ...(firstAttemptTimeoutMs === undefined ? {} : { firstAttemptTimeoutMs }) },
  );
  return { deps, transport };
}

describe('the first attempt budget of a delivery', () => {
  it('gives the first attempt the short budget and every retry the transport\'s full timeout', async () => {
    const { deps, transport } = harness(3_000);
    expect(await deliverWebhook(deps, { message, receiveCount: 1, receiptHandle: 'rh' })).toMatchObject({ kind: 'retry', attempt: { attempt: 1, error: 'timeout' } });
    expect(await deliverWebhook(deps, { message, receiveCount: 2, receiptHandle: 'rh' })).toMatchObject({ kind: 'retry', attempt: { attempt: 2, error: 'timeout' } });
    expect(await deliverWebhook(deps, { message, receiveCount: 3, receiptHandle: 'rh' })).toMatchObject({ kind: 'retry', attempt: { attempt: 3 } });
    expect(transport.budgets).toEqual([3_000, undefined, undefined]);
  });

  it('leaves every attempt the full timeout where no first attempt budget is set', async () => {
    const { deps, transport } = harness(undefined);
    await deliverWebhook(deps, { message, receiveCount: 1, receiptHandle: 'rh' });
    expect(transport.budgets).toEqual([undefined]);
  });

  it('counts the attempts a circuit skip carried over, so a delivery skipped before its first POST still gets the short budget once', async () => {
    const { deps, transport } = harness(3_000);
    await deliverWebhook(deps, { message: { ...message, attemptsBefore: 0 }, receiveCount: 1, receiptHandle: 'rh' });
    await deliverWebhook(deps, { message: { ...message, attemptsBefore: 1 }, receiveCount: 1, receiptHandle: 'rh' });
    expect(transport.budgets).toEqual([3_000, undefined]);
  });
});
