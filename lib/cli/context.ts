/**
 * Where an operator command runs: against the local runtime (`--local`), a deployed stack
 * (`--stack NAME`, read from its CloudFormation outputs) or a bare table (`--table NAME`).
 * Every command resolves its target here, so they all accept the same options:
 *
 *   const target = await resolveTarget(['--local']);
 *   try {
 *     await new DynamoMerchantStore(target.dynamo, target.tableName).getMerchant(id);
 *     await target.sqs.send(new GetQueueAttributesCommand({ QueueUrl: target.queues.requests!.url, … }));
 *   } finally {
 *     target.close();
 *   }
 *
 * On AWS the clients use the standard credential chain (environment, profile, SSO, role) and
 * `--region`, or the chain's region when absent.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { S3RequestBodies } from '../../lambdas/adapters/s3-request-bodies';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { LOCAL_CREDENTIALS, type LocalEndpoints } from '../local/provision';
import type { LocalRuntimeDescription } from '../local/runtime';
import { ENV } from '../../lambdas/settings/environment';
import { queues } from '../topology';
import { SERVICE_NAME } from '../../lambdas/settings/observability';
import { type QueueName } from '../../lambdas/settings/retry';
import { didYouMean } from './suggest';

/** The options every command accepts for choosing its target; merge them into a command's own `parseArgs` options. */
export const targetOptions = {
  local: { type: 'boolean' },
  port: { type: 'string' },
  stack: { type: 'string' },
  table: { type: 'string' },
  region: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export const TARGET_USAGE = `Target (one of):
  --local [--port N]   the local runtime (npm start) on this machine; PORT or 3000 by default
  --stack NAME         a deployed stack, found through its CloudFormation outputs
  --table NAME         a table only (queue URLs from HERALD_<QUEUE>_QUEUE_URL and
                       HERALD_<QUEUE>_DEAD_LETTER_QUEUE_URL and
                       HERALD_<QUEUE>_SLOW_LANE_QUEUE_URL when set)
  --region REGION      AWS region for --stack and --table (else the SDK's default chain)`;

import { queueUrlsOf, type QueueUrls } from '../operations/queue-depths';
import { printJson, printText } from './output';
export type { QueueUrls };

/** A resolved target: resource names and ready clients. Call `close()` when done. */
export interface Target {
  readonly kind: 'local' | 'stack' | 'table';
  /** For messages: "the local runtime at http://127.0.0.1:3000", "stack Herald (eu-west-1)". */
  readonly description: string;
  readonly tableName: string;
  /** The queues the target knows; with `--table`, only those named in the environment. */
  readonly queues: Partial<Record<QueueName, QueueUrls>>;
  readonly topicArns: Readonly<Record<string, string>>;
  /** Base URL of the HTTP API, when known (local runtime, stack output `ApiUrl`). */
  readonly apiUrl?: string;
  /** The embedded endpoints, for `--local` only. */
  readonly endpoints?: LocalEndpoints;
  readonly dynamo: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  /** Payloads and results kept in the bodies bucket, when the target names it (local runtime, stack output `BodiesBucketName`). */
  readonly bodies?: S3RequestBodies;
  close(): void;
}

export type TargetValues = { local?: boolean; port?: string; stack?: string; table?: string; region?: string };

/** A mistake in the command line: the CLI prints the message (and usage), without a stack trace, and exits 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

/** A well-formed command that could not be carried out (no such merchant, request …): exit code 1, no stack trace. */
export class CliFailedError extends Error {
  override readonly name = 'CliFailedError';
}

/** The documented exit codes of every `herald` command. */
export const EXIT_CODES = { ok: 0, failed: 1, usage: 2 } as const;

/**
 * Resolves the target from command-line arguments (only the target options are allowed in
 * `argv`) or from values a command already parsed with `targetOptions`.
 */
export async function resolveTarget(argvOrValues: readonly string[] | TargetValues): Promise<Target> {
  const values: TargetValues = Array.isArray(argvOrValues)
    ? parseTargetArguments(argvOrValues as readonly string[])
    : (argvOrValues as TargetValues);
  const chosen = [values.local && '--local', values.stack && '--stack', values.table && '--table'].filter(Boolean);
  if (chosen.length !== 1) {
    throw new CliUsageError(`${chosen.length ? `Choose one of ${chosen.join(', ')}` : 'Say where Herald runs'}.\n${TARGET_USAGE}`);
  }
  if (values.local) return localTarget(values.port ?? process.env.PORT ?? '3000');
  if (values.stack) return stackTarget(values.stack, values.region);
  return tableTarget(values.table!, values.region);
}

function parseTargetArguments(argv: readonly string[]): TargetValues {
  try {
    return parseArgs({ args: [...argv], options: targetOptions, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new CliUsageError(`${(error as Error).message}\n${TARGET_USAGE}`);
  }
}

/** Asks the running local runtime where its endpoints are (`GET /local/endpoints`, served on 127.0.0.1 only). */
async function localTarget(port: string): Promise<Target> {
  if (!/^\d{1,5}$/.test(port)) throw new CliUsageError(`--port must be a port number, not "${port}"`);
  const apiUrl = `http://127.0.0.1:${port}`;
  let description: LocalRuntimeDescription;
  try {
    const response = await fetch(`${apiUrl}/local/endpoints`, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`it answered ${response.status}`);
    description = (await response.json()) as LocalRuntimeDescription;
  } catch (error) {
    throw new CliFailedError(
      `No local runtime answers at ${apiUrl} (${(error as Error).message}). Start it with \`npm start\`, or pass --port / set PORT.`,
    );
  }
  const common = { region: description.region, credentials: LOCAL_CREDENTIALS };
  const { resources, endpoints } = description;
  return withClients(
    {
      kind: 'local',
      description: `the local runtime at ${apiUrl}`,
      tableName: resources.tableName,
      queues: queueUrlsOf(resources.queues),
      topicArns: resources.topicArns,
      apiUrl,
      endpoints,
    },
    { ...common, endpoint: endpoints.dynamodb },
    { ...common, endpoint: endpoints.sqs },
    { bucket: resources.bodiesBucket, config: { ...common, endpoint: endpoints.s3, forcePathStyle: true } },
  );
}

/** Reads the stack's outputs: `TableName`, `<Queue>QueueUrl`, `<Queue>DeadLetterQueueUrl`, `<Topic>TopicArn`, `ApiUrl`. */
async function stackTarget(stackName: string, region?: string): Promise<Target> {
  const cloudFormation = new CloudFormationClient({ ...(region ? { region } : {}) });
  let outputs: Record<string, string>;
  let resolvedRegion: string;
  try {
    const { Stacks = [] } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = Object.fromEntries((Stacks[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
    resolvedRegion = await cloudFormation.config.region();
  } finally {
    cloudFormation.destroy();
  }
  const tableName = outputs.TableName;
  if (!tableName) throw new CliFailedError(`Stack ${stackName} has no TableName output; is it a Herald stack?`);
  const queueUrls: Partial<Record<QueueName, QueueUrls>> = {};
  for (const name of Object.keys(queues) as QueueName[]) {
    const url = outputs[`${pascal(name)}QueueUrl`];
    const deadLetterUrl = outputs[`${pascal(name)}DeadLetterQueueUrl`];
    const slowLaneUrl = outputs[`${pascal(name)}SlowLaneQueueUrl`];
    if (url) queueUrls[name] = { url, ...(deadLetterUrl ? { deadLetterUrl } : {}), ...(slowLaneUrl ? { slowLaneUrl } : {}) };
  }
  const topicArns = Object.fromEntries(
    Object.entries(outputs)
      .filter(([key]) => key.endsWith('TopicArn'))
      .map(([key, value]) => [key.charAt(0).toLowerCase() + key.slice(1, -'TopicArn'.length), value]),
  );
  const common = { region: resolvedRegion };
  return withClients(
    {
      kind: 'stack',
      description: `stack ${stackName} (${resolvedRegion})`,
      tableName,
      queues: queueUrls,
      topicArns,
      ...(outputs.ApiUrl ? { apiUrl: outputs.ApiUrl } : {}),
    },
    common,
    common,
    outputs.BodiesBucketName ? { bucket: outputs.BodiesBucketName, config: common } : undefined,
  );
}

/** A table named outright; queues only if the environment names them as the functions' environment does. */
function tableTarget(tableName: string, region?: string): Target {
  const queueUrls: Partial<Record<QueueName, QueueUrls>> = {};
  for (const name of Object.keys(queues) as QueueName[]) {
    const prefix = `${SERVICE_NAME.toUpperCase()}_${upperSnake(name)}`;
    const url = process.env[(ENV as Record<string, string>)[`${name}QueueUrl`] ?? `${prefix}_QUEUE_URL`];
    const deadLetterUrl = process.env[`${prefix}_DEAD_LETTER_QUEUE_URL`];
    const slowLaneUrl = process.env[`${prefix}_SLOW_LANE_QUEUE_URL`];
    if (url) queueUrls[name] = { url, ...(deadLetterUrl ? { deadLetterUrl } : {}), ...(slowLaneUrl ? { slowLaneUrl } : {}) };
  }
  const common = { ...(region ? { region } : {}) };
  return withClients(
    { kind: 'table', description: `table ${tableName}${region ? ` (${region})` : ''}`, tableName, queues: queueUrls, topicArns: {} },
    common,
    common,
  );
}

function withClients(
  target: Omit<Target, 'dynamo' | 'sqs' | 'close'>,
  dynamoConfig: ConstructorParameters<typeof DynamoDBClient>[0],
  sqsConfig: ConstructorParameters<typeof SQSClient>[0],
  bodiesBucket?: { bucket: string; config: ConstructorParameters<typeof S3Client>[0] },
): Target {
  const s3 = bodiesBucket ? new S3Client(bodiesBucket.config ?? {}) : undefined;
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(dynamoConfig ?? {}), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  // The configured endpoint is right for our own queues; emulators' queue URLs may use made-up hosts.
  const sqs = new SQSClient({ ...sqsConfig, useQueueUrlAsEndpoint: false });
  return {
    ...target,
    dynamo,
    sqs,
    ...(s3 && bodiesBucket ? { bodies: new S3RequestBodies(s3, bodiesBucket.bucket) } : {}),
    close: () => {
      dynamo.destroy();
      sqs.destroy();
      s3?.destroy();
    },
  };
}

const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);
const upperSnake = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/**
 * Node's parser explains an unknown option in terms of its own API ("To specify a positional
 * argument starting with a '-' …"); an operator needs the option's name and the nearest one.
 */
export function argumentMistake(error: Error & { code?: string }, known: readonly string[]): string {
  const unknown = error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'(-[^']*)'/.exec(error.message)?.[1] : undefined;
  if (!unknown) return error.message;
  const flags = known.map((name) => `--${name}`);
  return `Unknown option "${unknown}".${didYouMean(unknown.split('=')[0]!, flags)}`;
}

/** Options every command takes besides its target: `--json` and `--help`. */
export const commonOptions = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export const COMMON_USAGE = `Output:
  --json      machine-readable output: one JSON document on stdout and nothing else
  -h, --help  this help (as {"usage": "..."} with --json)
Exit codes: 0 ok, 1 failed, 2 usage (a mistake in the command line)`;

/** Prints help text, or with `--json` the same text as `{"usage": …}` so scripts never meet prose on stdout. */
export function printHelp(text: string, json: boolean): void {
  if (json) printJson({ usage: text });
  else printText(text);
}

/**
 * Parses a command's arguments together with the target options, and resolves the target.
 * `run` receives the command's own values and positionals; the target is closed afterwards.
 */
export async function withTarget<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: readonly string[],
  options: T,
  usage: string,
  run: (
    target: Target,
    args: { values: Record<string, string | boolean | undefined>; positionals: string[] },
  ) => Promise<void>,
): Promise<void> {
  let parsed: { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options: { ...options, ...targetOptions, ...commonOptions }, strict: true, allowPositionals: true });
  } catch (error) {
    throw new CliUsageError(`${argumentMistake(error as Error & { code?: string }, Object.keys({ ...options, ...targetOptions, ...commonOptions }))}\n\n${usage}\n\n${TARGET_USAGE}`);
  }
  if (parsed.values.help) {
    printHelp(`${usage}\n\n${TARGET_USAGE}\n\n${COMMON_USAGE}`, parsed.values.json === true);
    return;
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const target = await resolveTarget({
    local: values.local as boolean | undefined,
    port: values.port as string | undefined,
    stack: values.stack as string | undefined,
    table: values.table as string | undefined,
    region: values.region as string | undefined,
  });
  try {
    await run(target, { values, positionals: parsed.positionals });
  } finally {
    target.close();
  }
}
