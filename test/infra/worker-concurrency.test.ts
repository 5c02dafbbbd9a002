import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { CfnQueue } from 'aws-cdk-lib/aws-sqs';
import { HeraldStack, type HeraldStackProps } from '../../lib/herald-stack';
import { functions, queues } from '../../lib/topology';

const synth = (props: HeraldStackProps) => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new HeraldStack(app, 'Herald', props);
  return { stack, template: Template.fromStack(stack) };
};

function mappingOf(stack: HeraldStack, template: Template, queue: 'requests' | 'deliveries') {
  const queueId = Stack.of(stack).getLogicalId(stack.queues.get(queue).queue.node.defaultChild as CfnQueue);
  const found = Object.values(template.findResources('AWS::Lambda::EventSourceMapping', { Properties: { EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] } } }));
  expect(found).toHaveLength(1);
  return found[0]!.Properties as { ScalingConfig?: { MaximumConcurrency: number } };
}

function reservedOf(stack: HeraldStack, template: Template, fn: 'process' | 'deliver'): unknown {
  const id = Stack.of(stack).getLogicalId(stack.functions.get(fn).node.defaultChild as CfnFunction);
  return template.toJSON().Resources[id].Properties.ReservedConcurrentExecutions;
}

describe('worker and reserved concurrency as stack settings', () => {
  it('deploys the concurrency and reservation an operator sizes for 2,000 requests/s (docs/scale.md)', () => {
    const { stack, template } = synth({ workerConcurrency: { requests: 100, deliveries: 600 }, reservedConcurrency: { requests: 102, deliveries: 600 } });
    expect(mappingOf(stack, template, 'requests').ScalingConfig).toEqual({ MaximumConcurrency: 100 });
    expect(mappingOf(stack, template, 'deliveries').ScalingConfig).toEqual({ MaximumConcurrency: 600 });
    expect(reservedOf(stack, template, 'process')).toBe(102);
    expect(reservedOf(stack, template, 'deliver')).toBe(600);
  });

  it('keeps the topology’s concurrency and reserves nothing when not told', () => {
    const { stack, template } = synth({});
    expect(mappingOf(stack, template, 'requests').ScalingConfig).toEqual({ MaximumConcurrency: queues.requests.maxConcurrency });
    expect(mappingOf(stack, template, 'deliveries').ScalingConfig).toEqual({ MaximumConcurrency: queues.deliveries.maxConcurrency });
    expect(reservedOf(stack, template, 'process')).toBeUndefined();
    expect(reservedOf(stack, template, 'deliver')).toBeUndefined();
  });

  it('refuses a reservation below the worker concurrency, which would throttle the event source', () => {
    expect(() => synth({ workerConcurrency: { deliveries: 600 }, reservedConcurrency: { deliveries: 500 } })).toThrow(/at least its worker concurrency \(600\)/);
    // The requests queue's slow lane invokes the same function: its two workers need room in the reservation too.
    expect(() => synth({ workerConcurrency: { requests: 100 }, reservedConcurrency: { requests: 100 } })).toThrow(/at least its worker concurrency \(100\) plus its slow lane's \(2\)/);
  });

  it('refuses a worker concurrency outside Lambda’s bounds for an SQS event source (2 to 1,000)', () => {
    expect(() => synth({ workerConcurrency: { requests: 1 } })).toThrow(/from 2 to 1000, got 1/);
    expect(() => synth({ workerConcurrency: { deliveries: 1001 } })).toThrow(/from 2 to 1000, got 1001/);
  });

  it('keeps a hanging receiver from holding a delivery batch past the function timeout: every record of a batch posts at once, each within the attempt timeout', () => {
    // Records of a batch run concurrently (lambdas/handlers/shared/sqs-consumer.ts), so a batch lasts about one attempt timeout
    // plus the calls around it, never batch size × timeout; the function's timeout leaves room for both.
    expect(functions.deliver.timeoutSeconds).toBeGreaterThanOrEqual(2 * 10);
    expect(queues.deliveries.visibilityTimeoutSeconds).toBeGreaterThan(functions.deliver.timeoutSeconds);
  });
});
