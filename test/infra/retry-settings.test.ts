import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { CfnQueue } from 'aws-cdk-lib/aws-sqs';
import { HeraldStack, type HeraldStackProps } from '../../lib/herald-stack';
import { ENV } from '../../lambdas/settings/environment';
import { queues, type FunctionName } from '../../lib/topology';
import { webhookDefaults } from '../../lambdas/settings/webhooks';
import { type QueueName } from '../../lambdas/settings/retry';

// Skipping bundling keeps these tests fast; such a template must never be deployed.
function render(props: HeraldStackProps = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new HeraldStack(app, 'Herald', props);
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Properties: Record<string, any> }>;
  const propertiesOf = (construct: { node: { defaultChild?: unknown } }) =>
    resources[Stack.of(stack).getLogicalId(construct.node.defaultChild as CfnQueue | CfnFunction)]!.Properties;
  return {
    maxReceiveCount: (queue: QueueName) => propertiesOf(stack.queues.get(queue).queue).RedrivePolicy.maxReceiveCount as number,
    environment: (name: FunctionName) => propertiesOf(stack.functions.get(name)).Environment.Variables as Record<string, string>,
  };
}

const defaults = render();
const tuned = render({
  requestRetry: { maxAttempts: 3, delaysSeconds: [1, 2] },
  deliveryRetry: { maxAttempts: 12 },
  webhookDeadStreakLimit: 9,
});

describe('by default', () => {
  it.each(Object.keys(queues) as QueueName[])('dead-letters the %s queue after the topology count', (queue) => {
    expect(defaults.maxReceiveCount(queue)).toBe(queues[queue].retry.maxAttempts);
  });

  it("gives the consumers the topology's schedules and dead-streak limit", () => {
    expect(defaults.environment('process')).toMatchObject({
      [ENV.requestRetryDelays]: queues.requests.retry.delaysSeconds.join(','),
      [ENV.requestMaxAttempts]: String(queues.requests.retry.maxAttempts),
    });
    expect(defaults.environment('deliver')).toMatchObject({
      [ENV.deliveryRetryDelays]: queues.deliveries.retry.delaysSeconds.join(','),
      [ENV.deliveryMaxAttempts]: String(queues.deliveries.retry.maxAttempts),
      [ENV.webhookDeadStreakLimit]: String(webhookDefaults.deadStreakLimit),
    });
  });
});

describe('requestRetry', () => {
  it("sets the requests queue's maxReceiveCount to its attempts", () => {
    expect(tuned.maxReceiveCount('requests')).toBe(3);
  });

  it('reaches the process function as the same schedule', () => {
    expect(tuned.environment(queues.requests.consumer)).toMatchObject({
      [ENV.requestRetryDelays]: '1,2',
      [ENV.requestMaxAttempts]: '3',
    });
  });
});

describe('deliveryRetry', () => {
  it("sets the deliveries queue's maxReceiveCount to its attempts", () => {
    expect(tuned.maxReceiveCount('deliveries')).toBe(12);
  });

  it('reaches the deliver function, keeping the delays it did not override', () => {
    expect(tuned.environment(queues.deliveries.consumer)).toMatchObject({
      [ENV.deliveryRetryDelays]: queues.deliveries.retry.delaysSeconds.join(','),
      [ENV.deliveryMaxAttempts]: '12',
    });
  });
});

it('hands webhookDeadStreakLimit to the deliver function', () => {
  expect(tuned.environment(queues.deliveries.consumer)[ENV.webhookDeadStreakLimit]).toBe('9');
});

it.each<[string, HeraldStackProps]>([
  ['more attempts than SQS counts', { requestRetry: { maxAttempts: 1001 } }],
  ['a delay beyond 12 h', { deliveryRetry: { delaysSeconds: [60, 50_000] } }],
  ['a dead-streak limit of 0', { webhookDeadStreakLimit: 0 }],
])('refuses %s at synth', (_, props) => {
  expect(() => render(props)).toThrow(RangeError);
});
