import type { Tracer } from '@aws-lambda-powertools/tracer';
import { SERVICE_NAME } from '../settings/observability';

/** What Herald asks of a tracer: capture an AWS client, and say whether traces are written. */
export type ClientTracer = Pick<Tracer, 'captureAWSv3Client' | 'isTracingEnabled'>;

/** A function bundled without the X-Ray SDK hands its clients back as they are. */
const untraced: ClientTracer = {
  captureAWSv3Client: (client) => client,
  isTracingEnabled: () => false,
};

/**
 * Whether this process writes traces: on Lambda, unless tracing is switched off. Elsewhere, and in
 * a function bundled without the X-Ray SDK, the SDK is not even loaded: it installs an async
 * hook on load that runs on every promise of the process, traced or not (a few percent of the
 * local runtime's CPU under load).
 */
const tracingOn = () => process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined && process.env.POWERTOOLS_TRACE_ENABLED !== 'false';

/**
 * The one X-Ray tracer of a Lambda; the AWS clients are captured through it, so every DynamoDB,
 * SQS and SNS call shows up as a subsegment of the invocation. Outside Lambda and with
 * `POWERTOOLS_TRACE_ENABLED=false` it hands clients back as they are, so the local runtime and
 * tests get plain clients and no X-Ray context errors.
 *
 * The X-Ray SDK weighs about 120 KB minified and slows every cold start, so only the functions
 * whose calls are worth a subsegment each carry it: the bundler replaces `HERALD_XRAY_SDK` with
 * a constant (lib/constructs/functions.ts), and where it is `omitted` the `require` below is dead
 * code that esbuild leaves out of the bundle. Lambda's own active tracing still traces every
 * function's invocations.
 *
 * @example tracer.captureAWSv3Client(new SQSClient({}))
 */
export const tracer: ClientTracer =
  // The bundle-time constant comes first and alone, so that esbuild sees the dead branch.
  process.env.HERALD_XRAY_SDK !== 'omitted' && tracingOn()
    ? // eslint-disable-next-line @typescript-eslint/no-require-imports
      new (require('@aws-lambda-powertools/tracer') as typeof import('@aws-lambda-powertools/tracer')).Tracer({
        serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
      })
    : untraced;
