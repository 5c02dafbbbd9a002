import type { Context } from 'aws-lambda';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PROJECT_ROOT } from './dynamodb-local';
import { functions, type FunctionName, type FunctionSpec } from '../topology';

type AnyHandler = (event: any, context: Context) => Promise<any>;

/** One handler invocation as a benchmark sees it: which function, what it got and answered, how long it took. */
export interface Invocation {
  readonly functionName: FunctionName;
  readonly event: unknown;
  readonly result: unknown;
  readonly durationMs: number;
}

const loaded = new Map<string, AnyHandler>();
let bundleFiles: ReadonlyMap<string, string> | undefined;
let recorder: ((invocation: Invocation) => void) | undefined;
const invoking = new AsyncLocalStorage<FunctionName>();

/**
 * Makes `loadHandler` load each function from its bundle (`npm start -- --bundled`) instead of
 * the TypeScript entry, so the local runtime runs the artifact a deploy would upload.
 */
export function useHandlerBundles(files: Readonly<Partial<Record<FunctionName, string>>>): void {
  const byEntry = new Map<string, string>();
  for (const [name, file] of Object.entries(files) as [FunctionName, string][]) byEntry.set(functions[name].entry, file);
  bundleFiles = byEntry;
  loaded.clear();
}

/**
 * Reports every handler invocation to `onInvocation` until the returned stop is called, and lets
 * code running inside one ask which function it is (`invokingFunction`), e.g. to attribute the
 * AWS calls it makes. Off by default: the async context it needs costs every promise a little.
 */
export function recordInvocations(onInvocation: (invocation: Invocation) => void): () => void {
  recorder = onInvocation;
  return () => {
    recorder = undefined;
  };
}

/** The function whose invocation the caller runs in, while invocations are recorded. */
export function invokingFunction(): FunctionName | undefined {
  return invoking.getStore();
}

/** Loads the very handler module the stack deploys for a function (its `entry` in the topology). */
export function loadHandler<H = AnyHandler>(spec: FunctionSpec): H {
  let handler = loaded.get(spec.entry);
  if (!handler) {
    const name = (Object.keys(functions) as FunctionName[]).find((n) => functions[n].entry === spec.entry);
    // require, not import(): it works the same under tsx and inside jest's module registry.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const module = require(bundleFiles?.get(spec.entry) ?? join(PROJECT_ROOT, spec.entry)) as { handler?: AnyHandler };
    const loadedHandler = module.handler;
    if (typeof loadedHandler !== 'function') throw new Error(`${spec.entry} does not export a handler function`);
    handler = name ? observed(name, loadedHandler) : loadedHandler;
    loaded.set(spec.entry, handler);
  }
  return handler as H;
}

function observed(name: FunctionName, handler: AnyHandler): AnyHandler {
  return async (event, context) => {
    const report = recorder;
    if (!report) return handler(event, context);
    const started = performance.now();
    let result: unknown;
    try {
      result = await invoking.run(name, () => handler(event, context));
      return result;
    } finally {
      report({ functionName: name, event, result, durationMs: performance.now() - started });
    }
  };
}

/** A Lambda context as AWS passes it, with the remaining time counting down from the function's timeout. */
export function lambdaContext(name: FunctionName, spec: FunctionSpec): Context {
  const deadline = Date.now() + spec.timeoutSeconds * 1000;
  const functionName = `herald-${name}`;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: String(spec.memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
