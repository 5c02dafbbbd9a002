import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { createdClients } from '../../lambdas/adapters/aws-clients';
import { invokingFunction } from '../../lib/local/lambda-context';
import { table } from '../../lambdas/settings/storage';
import { itemBytes } from './aws-call-meter';

/**
 * The partition-heat meter: for every DynamoDB read and write the handlers make, the partition
 * key value it lands on, in the table and in each index, with the capacity units it takes there.
 *
 * DynamoDB serves at most 1,000 write units and 3,000 read units a second on one partition key
 * value, in the table and in every index (an index that falls behind throttles the table's
 * writes). An index entry is written whenever an item's index keys change: a put where the item
 * had none, a delete where it has none any more, and both (on the old and on the new partition)
 * where they moved. So each write is bracketed by two reads of the item on a client of its own,
 * outside the meter, and the index keys before and after decide which entries it wrote. Every
 * index projects keys only, so an entry is under 1 KB: one write unit per entry written or
 * deleted. A write refused by its condition is still billed on the table, and changes no index.
 *
 * The extra reads make the metered functions slower: the meter runs in a phase of its own, never
 * while durations or call counts are measured.
 */

/** One partition key value a call touched, with the units it took there. */
export interface HeatSample {
  /** `table`, `secrets table`, or an index name. */
  readonly place: string;
  readonly value: string;
  readonly readUnits: number;
  readonly writeUnits: number;
}

export interface HeatMeter {
  readonly samples: HeatSample[];
  stop(): void;
}

type Next = (args: { input: Record<string, unknown> }) => Promise<{ output?: Record<string, unknown> }>;
type Stack = { add(middleware: unknown, options: object): void; remove(name: string): boolean };
type Item = Record<string, unknown>;

const MIDDLEWARE_NAME = 'heraldBenchPartitionHeat';
const ATTRIBUTE_TYPES = new Set(['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS']);
const INDEXES = Object.values(table.indexes);

/** Installs the meter on the handlers' DynamoDB client; samples are pushed as calls finish. */
export function meterPartitionHeat(tables: { readonly main: string; readonly secrets: string }): HeatMeter {
  const samples: HeatSample[] = [];
  const reader = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const placeOf = (tableName: unknown) => (tableName === tables.main ? 'table' : tableName === tables.secrets ? 'secrets table' : String(tableName));
  const record = (place: string, value: unknown, readUnits: number, writeUnits: number) => {
    if (invokingFunction() === undefined) return; // set-up code, not a handler
    samples.push({ place, value: String(value), readUnits, writeUnits });
  };
  const read = async (tableName: string, key: Item): Promise<Item | undefined> =>
    (await reader.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;

  /** The table and index writes of one item's change, from the item before and after it. */
  const recordWrite = (tableName: string, key: Item, before: Item | undefined, after: Item | undefined, factor: number) => {
    const place = placeOf(tableName);
    const bytes = Math.max(before ? itemBytes(before) : 0, after ? itemBytes(after) : 0);
    record(place, key.pk, 0, factor * Math.max(1, Math.ceil(bytes / 1024)));
    if (place !== 'table') return;
    for (const index of INDEXES) {
      const was = indexKeyOf(before, index);
      const is = indexKeyOf(after, index);
      if (was && is && was.pk === is.pk && was.sk === is.sk) continue;
      if (was) record(index.name, was.pk, 0, 1);
      if (is) record(index.name, is.pk, 0, 1);
    }
  };

  const middleware = (next: Next, context: { commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
    const operation = (context.commandName ?? '').replace(/Command$/, '');
    const input = args.input;
    const writes = writesOf(operation, input);
    const before = await Promise.all(writes.map((write) => read(write.tableName, write.key)));
    let result: { output?: Record<string, unknown> };
    try {
      result = await next(args);
    } catch (error) {
      // A refused condition is billed as the write it would have been; no index changes.
      for (const [at, write] of writes.entries()) recordWrite(write.tableName, write.key, before[at], before[at], write.factor);
      throw error;
    }
    if (writes.length) {
      const after = await Promise.all(writes.map((write) => read(write.tableName, write.key)));
      for (const [at, write] of writes.entries()) recordWrite(write.tableName, write.key, before[at], after[at], write.factor);
    }
    recordReads(operation, input, result.output ?? {}, placeOf, record);
    return result;
  };
  const stack = createdClients().dynamo.middlewareStack as unknown as Stack;
  // Serialize and later steps see the marshalled input; the output comes back in native form.
  stack.add(middleware, { step: 'build', priority: 'low', name: MIDDLEWARE_NAME });
  return {
    samples,
    stop: () => {
      stack.remove(MIDDLEWARE_NAME);
      reader.destroy();
    },
  };
}

interface Write {
  readonly tableName: string;
  readonly key: Item;
  /** A transaction bills each item twice. */
  readonly factor: number;
}

function writesOf(operation: string, input: Item): Write[] {
  const keyOfPut = (item: Item) => ({ pk: item.pk, sk: item.sk });
  switch (operation) {
    case 'PutItem':
      return [{ tableName: String(input.TableName), key: keyOfPut(native(input.Item)), factor: 1 }];
    case 'UpdateItem':
    case 'DeleteItem':
      return [{ tableName: String(input.TableName), key: native(input.Key), factor: 1 }];
    case 'TransactWriteItems':
      return ((input.TransactItems ?? []) as Record<string, Item | undefined>[]).map((entry) => {
        const [part] = Object.values(entry) as Item[];
        const key = part!.Item ? keyOfPut(native(part!.Item)) : native(part!.Key);
        return { tableName: String(part!.TableName), key, factor: 2 };
      });
    case 'BatchWriteItem':
      return Object.entries((input.RequestItems ?? {}) as Record<string, Item[]>).flatMap(([tableName, requests]) =>
        requests.map((request) => {
          const put = request.PutRequest as Item | undefined;
          const key = put ? keyOfPut(native(put.Item)) : native((request.DeleteRequest as Item).Key);
          return { tableName, key, factor: 1 };
        }),
      );
    default:
      return [];
  }
}

function recordReads(
  operation: string,
  input: Item,
  output: Item,
  placeOf: (tableName: unknown) => string,
  record: (place: string, value: unknown, readUnits: number, writeUnits: number) => void,
): void {
  // A strongly consistent read costs a unit per 4 KB, an eventually consistent one half that.
  const units = (bytes: number, consistent: unknown) => Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5);
  switch (operation) {
    case 'GetItem': {
      const item = output.Item as Item | undefined;
      record(placeOf(input.TableName), native(input.Key).pk, units(item ? itemBytes(item) : 0, input.ConsistentRead), 0);
      return;
    }
    case 'BatchGetItem':
      for (const [tableName, request] of Object.entries((input.RequestItems ?? {}) as Record<string, Item>)) {
        for (const item of ((output.Responses as Record<string, Item[]> | undefined)?.[tableName] ?? []) as Item[]) {
          record(placeOf(tableName), item.pk, units(itemBytes(item), request.ConsistentRead), 0);
        }
      }
      return;
    case 'Query': {
      const value = queriedPartition(input);
      const bytes = ((output.Items ?? []) as Item[]).reduce((sum, item) => sum + itemBytes(item), 0);
      record(input.IndexName ? String(input.IndexName) : placeOf(input.TableName), value, units(bytes, input.ConsistentRead), 0);
      return;
    }
    default:
  }
}

/** The partition key value of a query: the value its key condition compares the partition key with. */
function queriedPartition(input: Item): string {
  const condition = String(input.KeyConditionExpression ?? '');
  const match = /^\s*\(?\s*(#?[\w]+)\s*=\s*(:[\w]+)/.exec(condition);
  if (!match) return '(unparsed key condition)';
  const values = native(input.ExpressionAttributeValues);
  return String(values[match[2]!]);
}

function indexKeyOf(item: Item | undefined, index: { partitionKey: string; sortKey: string }): { pk: string; sk: string } | undefined {
  if (!item || item[index.partitionKey] === undefined || item[index.sortKey] === undefined) return undefined;
  return { pk: String(item[index.partitionKey]), sk: String(item[index.sortKey]) };
}

/** An item or key in native form, whichever form the step it was taken from holds. */
function native(value: unknown): Item {
  const item = (value ?? {}) as Item;
  const marshalled = Object.values(item).every((attribute) => {
    if (!attribute || typeof attribute !== 'object' || Array.isArray(attribute)) return false;
    const types = Object.keys(attribute);
    return types.length === 1 && ATTRIBUTE_TYPES.has(types[0]!);
  });
  return marshalled && Object.keys(item).length > 0 ? (unmarshall(item as never) as Item) : item;
}

/**
 * The shape of a partition key value: ids become `<id>`, digests `<hash>`, shard numbers
 * `<shard>`; fixed words stay. `MER#mer_01j…#7` is `MER#<id>#<shard>`.
 */
export function keyShapeOf(value: string): string {
  return value
    .split('#')
    .map((part) => {
      if (/^\d+$/.test(part)) return '<shard>';
      if (/^[0-9a-f]{32,}$/.test(part)) return '<hash>';
      if (/^[a-z]+_[0-9A-Za-z_.-]+$/.test(part)) return '<id>';
      return part;
    })
    .join('#');
}

export const PARTITION_WRITE_UNITS_PER_SECOND = 1_000;
export const PARTITION_READ_UNITS_PER_SECOND = 3_000;

/** One key shape's heat: its hottest value and the request rate that value allows. */
export interface ShapeHeat {
  readonly place: string;
  readonly shape: string;
  readonly values: number;
  /** Units per request on the shape's hottest value (by the rate it allows). */
  readonly writeUnitsPerRequest: number;
  readonly readUnitsPerRequest: number;
  readonly ceiling: number;
  /** Which limit binds on that value. */
  readonly binding: 'write' | 'read';
  /**
   * Every value is the key of one request of the workload (`REQ#<its id>`): its load comes from
   * that request alone, so it does not grow with the request rate and sets no ceiling.
   */
  readonly ownKeys: boolean;
}

/**
 * Groups the samples by place and key shape and, per shape, finds the value that allows the
 * fewest requests a second: value v taking w write and r read units per request allows
 * min(1,000 / w, 3,000 / r) requests a second, whatever the account's limits. A value naming one
 * of `requestIds` is that request's own key: its units are per request, not per second, so its
 * shape is listed but sets no ceiling (sorted last).
 */
export function heatByShape(samples: readonly HeatSample[], requests: number, requestIds: ReadonlySet<string>): ShapeHeat[] {
  const byValue = new Map<string, { place: string; shape: string; value: string; read: number; write: number }>();
  for (const sample of samples) {
    const id = `${sample.place}\t${sample.value}`;
    const entry = byValue.get(id) ?? { place: sample.place, shape: keyShapeOf(sample.value), value: sample.value, read: 0, write: 0 };
    entry.read += sample.readUnits;
    entry.write += sample.writeUnits;
    byValue.set(id, entry);
  }
  const shapes = new Map<string, ShapeHeat>();
  for (const entry of byValue.values()) {
    const write = entry.write / requests;
    const read = entry.read / requests;
    const byWrites = write > 0 ? PARTITION_WRITE_UNITS_PER_SECOND / write : Infinity;
    const byReads = read > 0 ? PARTITION_READ_UNITS_PER_SECOND / read : Infinity;
    const ceiling = Math.min(byWrites, byReads);
    const own = entry.value.split('#').some((part) => requestIds.has(part));
    const id = `${entry.place}\t${entry.shape}`;
    const known = shapes.get(id);
    const values = (known?.values ?? 0) + 1;
    const ownKeys = (known?.ownKeys ?? true) && own;
    if (!known || ceiling < known.ceiling) {
      shapes.set(id, { place: entry.place, shape: entry.shape, values, writeUnitsPerRequest: write, readUnitsPerRequest: read, ceiling, binding: byWrites <= byReads ? 'write' : 'read', ownKeys });
    } else {
      shapes.set(id, { ...known, values, ownKeys });
    }
  }
  const limiting = (shape: ShapeHeat) => (shape.ownKeys ? Infinity : shape.ceiling);
  return [...shapes.values()].sort((a, b) => limiting(a) - limiting(b) || a.ceiling - b.ceiling);
}
