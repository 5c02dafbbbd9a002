import { demoFail, demoSleep } from './demo';
import { orderProcess } from './order-process';
import type { Processor } from '../core/processor';
import { walletDebit } from './wallet-debit';

/**
 * Every request type Herald can run. To add one, write a `Processor` in this folder and list it
 * here; submit validates payloads against its schema and the worker dispatches on `type`.
 */
const registered: readonly Processor<any, unknown>[] = [demoSleep, demoFail, orderProcess, walletDebit];

export const processors: ReadonlyMap<string, Processor<any, unknown>> = new Map(registered.map((p) => [p.type, p]));

export function processorFor(type: string): Processor<any, unknown> | undefined {
  return processors.get(type);
}

export function registeredTypes(): string[] {
  return [...processors.keys()].sort();
}
