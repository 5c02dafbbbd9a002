import { setTimeout as sleep } from 'node:timers/promises';
import { handlerBundleFiles } from '../../lib/local/handler-bundles';
import { useHandlerBundles } from '../../lib/local/lambda-context';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../lib/local/runtime';
import { sharedEndpoints, uniqueNames } from './endpoints';

/**
 * The local runtime on the run's shared endpoints, with this file's own resources and a free port.
 * With HERALD_TEST_BUNDLES naming a cloud assembly (CI sets `cdk.out`), it runs the handler
 * bundles synth wrote there instead of the TypeScript sources, so a bundling mistake fails a test.
 */
export function startTestRuntime(label: string, options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const assembly = process.env.HERALD_TEST_BUNDLES;
  if (assembly) useHandlerBundles(handlerBundleFiles(assembly));
  return startLocalRuntime({
    port: 0,
    endpoints: sharedEndpoints(),
    names: uniqueNames(label),
    apiKey: `hrld_test_${label.replace(/[^A-Za-z0-9]/g, '')}_0123456789abcdef`,
    // The stack's batching window only delays a test's few requests (up to a second a queue hop);
    // test/integration/event-source-batching.test.ts holds the event source to it.
    maxBatchingWindowSeconds: 0,
    ...options,
  });
}

/** A small HTTP client for the runtime's API, authenticated as its demo merchant. */
export function apiClient(runtime: LocalRuntime, apiKey = runtime.apiKey) {
  return async (method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}) => {
    const response = await fetch(runtime.url + path, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      ...(options.body !== undefined ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
  };
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`Condition not met within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
}
