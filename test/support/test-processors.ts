import * as z from 'zod';
import { PermanentError, RetryableError, type Processor, type ProcessorServices } from '../../lambdas/core/requests/processor';

/**
 * Small processors for use-case tests: each does one thing the worker must handle (a result, a
 * transient failure, a refusal), so a test names the behaviour rather than a demo's business rule.
 */
export const echo: Processor<{ text: string }, { text: string }> = {
  type: 'test.echo',
  timeoutMs: 1_000,
  expectedSeconds: 2,
  schema: z.strictObject({ text: z.string() }),
  async run({ text }) {
    return { text };
  },
};

export const flaky: Processor<Record<string, never>, never> = {
  type: 'test.flaky',
  timeoutMs: 1_000,
  schema: z.strictObject({}),
  async run() {
    throw new RetryableError('the downstream service is busy', 'downstream_busy');
  },
};

export const refusing: Processor<Record<string, never>, never> = {
  type: 'test.refuse',
  timeoutMs: 1_000,
  schema: z.strictObject({}),
  async run() {
    throw new PermanentError('the order exceeds the limit', 'over_limit');
  },
};

/** A registry of the given processors, shaped like the real one. */
export function registryOf(...processors: Processor<any, unknown>[]) {
  const byType = new Map(processors.map((processor) => [processor.type, processor]));
  return {
    processorFor: (type: string) => byType.get(type),
    knownTypes: () => [...byType.keys()].sort(),
  };
}

/** Services for processors that use none: touching one fails the test loudly. */
export const noServices: ProcessorServices = {
  get wallets(): never {
    throw new Error('This test gives processors no wallet ledger');
  },
};
