import { demoFail, demoSleep } from './demo';
import { orderProcess, orderProcessWithFaults } from './order-process';
import type { Processor } from '../core/requests/processor';
import { walletDebit } from './wallet-debit';

/**
 * Every request type Herald can run. To add one, write a `Processor` in this folder and list it
 * here; submit validates payloads against its schema and the worker dispatches on `type`.
 */
const business: readonly Processor<any, unknown>[] = [orderProcess, walletDebit];
/** The business processors where demos run: `order.process` honours its fault switches (`simulate`). */
const businessWithFaults: readonly Processor<any, unknown>[] = [orderProcessWithFaults, walletDebit];
/**
 * Demo processors burn worker time and fill the DLQ on request (`demo.sleep` holds a worker 25 s,
 * `demo.fail` always fails): on locally, off in a deployment unless the operator turns them on.
 */
const demos: readonly Processor<any, unknown>[] = [demoSleep, demoFail];
const registered: readonly Processor<any, unknown>[] = [...demos, ...businessWithFaults];

const byType = new Map(registered.map((p) => [p.type, p]));
export const processors: ReadonlyMap<string, Processor<any, unknown>> = byType;

/**
 * Adds a processor while the process runs. Only the local runtime calls it, for processors that
 * must never reach AWS (the chaos run's effect recorder); a deployed function knows `registered`.
 */
export function registerProcessor(processor: Processor<any, unknown>): void {
  byType.set(processor.type, processor);
  addedAtRunTime.set(processor.type, processor);
}

const addedAtRunTime = new Map<string, Processor<any, unknown>>();

export function processorFor(type: string): Processor<any, unknown> | undefined {
  return processors.get(type);
}

export function registeredTypes(): string[] {
  return [...processors.keys()].sort();
}

/** The processors one deployment runs: submit and the worker look types up here only. */
export interface ProcessorRegistry {
  processorFor(type: string): Processor<any, unknown> | undefined;
  registeredTypes(): string[];
}

/**
 * The registry of a deployment: the business processors, and the demo ones only when asked for.
 * A type left out is unknown to submit (a 400 naming the known types) and to the worker.
 *
 * @example processorRegistry({ demoProcessors: false }).processorFor('demo.sleep') === undefined
 */
export function processorRegistry(options: { readonly demoProcessors: boolean }): ProcessorRegistry {
  const enabled = new Map((options.demoProcessors ? registered : business).map((p) => [p.type, p]));
  return {
    processorFor: (type) => enabled.get(type) ?? addedAtRunTime.get(type),
    registeredTypes: () => [...new Set([...enabled.keys(), ...addedAtRunTime.keys()])].sort(),
  };
}
