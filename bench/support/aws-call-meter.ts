import { createdClients } from '../../lambdas/adapters/aws-clients';
import { invokingFunction } from '../../lib/local/lambda-context';
import { table } from '../../lambdas/settings/storage';

type Next = (args: { input: Record<string, unknown> }) => Promise<{ output?: Record<string, unknown> }>;
type Stack = { add(middleware: unknown, options: object): void; remove(name: string): boolean };

/** One metered AWS call, as AWS would bill it. */
export interface MeteredCall {
  /** The function whose invocation made the call; `(outside)` for set-up code. */
  readonly functionName: string;
  /** `service:Operation`, e.g. `dynamodb:PutItem`. */
  readonly operation: string;
  /** SQS and SNS bill a request per 64 KB chunk of its payload. */
  readonly billedRequests: number;
  readonly readUnits: number;
  readonly writeUnits: number;
}

const CAPACITY_OPERATIONS = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
]);
const CHUNK_BYTES = 64 * 1024;

interface Capacity {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

const operationOf = (commandName: string | undefined) => (commandName ?? 'Unknown').replace(/Command$/, '');

/**
 * Meters every call the handlers' own SDK clients make (`createdClients()`): by the function
 * whose invocation made it (`recordInvocations` must be on for that), by `service:Operation`,
 * with DynamoDB's consumed capacity (each call asks for `ReturnConsumedCapacity: TOTAL`), SQS
 * and SNS payload chunks, and S3 requests (one billed request each). Counting sits inside the SDK's retry loop, so a retried call counts
 * twice, as AWS bills it. Calls are pushed to the returned array as they finish.
 */
export function meterAwsCalls(): MeteredCall[] {
  const calls: MeteredCall[] = [];
  const clients = createdClients();
  for (const [service, client] of Object.entries({ dynamodb: clients.dynamo, sqs: clients.sqs, sns: clients.sns, s3: clients.s3 })) {
    const stack = client.middlewareStack as unknown as Stack;
    // Inside the retry loop: one entry per HTTP request sent.
    stack.add(
      (next: Next, context: { commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
        const operation = operationOf(context.commandName);
        const result = await next(args);
        const capacity = (result.output?.ConsumedCapacity ?? []) as Capacity | Capacity[];
        const units = (Array.isArray(capacity) ? capacity : [capacity]).reduce(
          (sum, c) => {
            const read = c.ReadCapacityUnits ?? 0;
            const write = c.WriteCapacityUnits ?? 0;
            // A table reports CapacityUnits alone when it does not split them: the operation says which.
            const total = read + write > 0 ? 0 : (c.CapacityUnits ?? 0);
            const writes = /Put|Update|Delete|Write/.test(operation);
            return { read: sum.read + read + (writes ? 0 : total), write: sum.write + write + (writes ? total : 0) };
          },
          { read: 0, write: 0 },
        );
        calls.push({
          functionName: invokingFunction() ?? '(outside)',
          operation: `${service}:${operation}`,
          billedRequests: service === 'dynamodb' || service === 's3' ? 1 : Math.max(1, Math.ceil(payloadBytes(args.input) / CHUNK_BYTES)),
          readUnits: units.read,
          writeUnits: operation === 'TransactWriteItems' ? (transactionWriteUnits(args.input) ?? units.write) : units.write,
        });
        return result;
      },
      { step: 'finalizeRequest', priority: 'low', name: 'heraldBenchCallMeter' },
    );
  }
  (clients.dynamo.middlewareStack as unknown as Stack).add(
    (next: Next, context: { commandName?: string }) => async (args: { input: Record<string, unknown> }) =>
      next(CAPACITY_OPERATIONS.has(operationOf(context.commandName)) ? { ...args, input: { ...args.input, ReturnConsumedCapacity: 'TOTAL' } } : args),
    { step: 'initialize', priority: 'high', name: 'heraldBenchReturnConsumedCapacity' },
  );
  return calls;
}

/** Takes the meter off the handlers' clients again, so that what follows runs at full speed. */
export function stopMeteringAwsCalls(): void {
  const clients = createdClients();
  for (const client of [clients.dynamo, clients.sqs, clients.sns, clients.s3]) {
    const stack = client.middlewareStack as unknown as Stack;
    stack.remove('heraldBenchCallMeter');
    stack.remove('heraldBenchReturnConsumedCapacity');
  }
}

/** What SQS and SNS count toward a request's 64 KB chunks: message bodies and attributes. */
function payloadBytes(input: Record<string, unknown>): number {
  const entries = (input.Entries as Record<string, unknown>[] | undefined) ?? [input];
  let bytes = 0;
  for (const entry of entries) {
    bytes += Buffer.byteLength(String(entry.MessageBody ?? entry.Message ?? ''));
    if (entry.MessageAttributes) bytes += Buffer.byteLength(JSON.stringify(entry.MessageAttributes));
  }
  return bytes;
}

/**
 * DynamoDB Local misreports transactions (4 units for one small Put, 4 for two), so a transaction
 * of Puts, Deletes and condition checks is computed as AWS bills it: twice the units of each item
 * written, in the table and in every index whose keys it carries (all indexes project ALL).
 * Undefined when it holds an Update, whose item size only the table knows.
 */
function transactionWriteUnits(input: Record<string, unknown>): number | undefined {
  let units = 0;
  for (const entry of (input.TransactItems ?? []) as Record<string, { Item?: Record<string, unknown> } | undefined>[]) {
    if (entry.Update) return undefined;
    const item = entry.Put?.Item;
    if (!item) {
      units += 2; // a Delete or ConditionCheck of a small item
      continue;
    }
    const indexes = Object.values(table.indexes).filter((index) => index.partitionKey in item && index.sortKey in item).length;
    units += 2 * Math.ceil(itemBytes(item) / 1024) * (1 + indexes);
  }
  return units;
}

/** An item's size by DynamoDB's rules: each attribute's name plus its value, marshalled or not. */
export function itemBytes(item: Record<string, unknown>): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + valueBytes(value), 0);
}

function valueBytes(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') return Math.ceil(String(value).replace(/[-.]/g, '').length / 2) + 1;
  if (value instanceof Uint8Array) return value.length;
  if (Array.isArray(value)) return 3 + value.reduce<number>((sum, element) => sum + 1 + valueBytes(element), 0);
  if (value instanceof Set) return [...value].reduce<number>((sum, element) => sum + valueBytes(element), 0);
  const entries = Object.entries(value as Record<string, unknown>);
  // A marshalled AttributeValue ({ S: '…' }, { M: {…} } …) is measured by what it wraps.
  if (entries.length === 1 && entries[0]![0] === 'N') return valueBytes(Number(entries[0]![1]));
  if (entries.length === 1 && ['S', 'B', 'BOOL', 'NULL', 'L', 'SS', 'NS', 'BS'].includes(entries[0]![0])) return valueBytes(entries[0]![1]);
  if (entries.length === 1 && entries[0]![0] === 'M') return 3 + itemBytes(entries[0]![1] as Record<string, unknown>) + Object.keys(entries[0]![1] as object).length;
  return 3 + itemBytes(value as Record<string, unknown>) + entries.length;
}
