import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { PROJECT_ROOT } from './dynamodb-local';
import type { FunctionName, FunctionSpec } from '../topology';

/** Loads the very handler module the stack deploys for a function (its `entry` in the topology). */
export function loadHandler<H = (event: any, context: Context) => Promise<any>>(spec: FunctionSpec): H {
  // require, not import(): it works the same under tsx and inside jest's module registry.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require(join(PROJECT_ROOT, spec.entry)) as { handler?: H };
  if (typeof module.handler !== 'function') throw new Error(`${spec.entry} does not export a handler function`);
  return module.handler;
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
