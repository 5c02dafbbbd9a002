/**
 * Redrive: moves the messages of a queue's dead-letter queue back to the queue, e.g. after the
 * outage that exhausted their attempts has passed. `herald redrive` and the local console's
 * redrive button both run this operation.
 *
 * On AWS it starts an SQS message move task (`StartMessageMoveTask`) and follows it with
 * `ListMessageMoveTasks`; a run that finds a task already running follows that one instead of
 * starting a second. With `--max`, or where move tasks do not exist (fauxqs locally), it moves
 * messages itself: receive a batch, send it to the queue, then delete from the DLQ only what was
 * sent. Interrupting it leaves each message in the DLQ, in the queue, or (between send and
 * delete) briefly in both; the worker's conditional claim keeps a duplicate's effect single.
 *
 * A run is bounded by what it found: it moves at most the messages waiting in the DLQ when it
 * began (and never more than `--max`), then stops. A request that fails again at once after its
 * reopening is back in the DLQ within seconds; moving it again would feed it to the worker over
 * and over (each time announcing its end again) for as long as the run found messages. So every
 * message a run moves carries the run's generation in a message attribute, and a message that
 * comes back with it is set aside: it is hidden until the run ends, then made visible again, and
 * waits there for the next redrive.
 *
 * Before moving anything it records a redrive generation in the table: that is how the worker
 * knows a request that ended `failed` after exhausting its attempts was redriven and reopens it
 * (see lambdas/core/requests/redrive.ts), also for messages a move task moved without us seeing them.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedriveLog } from '../../lambdas/core/requests/redrive';
import { approximateDepth } from './queue-depths';

export interface RedriveTarget {
  readonly sqs: SQSClient;
  /** The topology's name of the queue (`requests`, `deliveries`, …). */
  readonly queueName: string;
  readonly queueUrl: string;
  readonly deadLetterUrl: string;
  readonly redrives: RedriveLog;
  /** Whether the SQS endpoint has message move tasks (AWS does; fauxqs 1.9 does not). */
  readonly moveTasks: boolean;
}

export interface RedriveOptions {
  /** Move at most this many messages (always moved one batch at a time, never by a move task). */
  readonly max?: number;
  readonly dryRun?: boolean;
  /** How long a received batch stays hidden in the DLQ while it is being moved. */
  readonly visibilityTimeoutSeconds?: number;
  /** How often a move task's progress is read. */
  readonly pollIntervalMs?: number;
}

export interface RedriveReport {
  readonly mode: 'dry-run' | 'move-task' | 'batches';
  /** Messages in the DLQ when the run began (approximate, as SQS counts). */
  readonly waiting: number;
  readonly moved: number;
  /** Messages the queue refused; they stay in the DLQ. */
  readonly failed: number;
  /** Messages this run moved that came back to the DLQ while it ran: they stay for the next redrive. */
  readonly cameBack?: number;
  readonly generation?: number;
  /** Dry run: the request ids (or message ids) of the first messages that would move. */
  readonly sample?: readonly string[];
  readonly taskStatus?: string;
}

export interface Progress {
  update(done: number, total: number): void;
  finish(): void;
}

const silent: Progress = { update: () => undefined, finish: () => undefined };

/**
 * A progress bar redrawn in place on a terminal; nothing at all when the stream is piped or
 * redirected, where a log would only fill with bars a script cannot use.
 */
export function progressBar(stream: Pick<NodeJS.WriteStream, 'isTTY' | 'write'> = process.stderr, label = 'moved'): Progress {
  if (!stream.isTTY) return silent;
  let last = '';
  return {
    update(done, total) {
      const width = 30;
      const share = total > 0 ? Math.min(done / total, 1) : 1;
      const filled = Math.round(share * width);
      const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${label}`;
      if (line === last) return;
      last = line;
      stream.write(`\r${line}`);
    },
    finish() {
      if (last) stream.write('\n');
    },
  };
}

/** Moves a queue's dead letters back to it (or, as a dry run, says what would move). */
export async function redrive(target: RedriveTarget, options: RedriveOptions = {}, progress: Progress = silent): Promise<RedriveReport> {
  const waiting = await approximateDepth(target.sqs, target.deadLetterUrl);
  const planned = options.max === undefined ? waiting : Math.min(options.max, waiting);
  if (options.dryRun) {
    return { mode: 'dry-run', waiting, moved: 0, failed: 0, sample: await peek(target, Math.min(planned, 10)) };
  }
  // Recorded before the first message moves, so the worker never sees a redriven message first.
  const generation = await target.redrives.begin(target.queueName);
  if (target.moveTasks && options.max === undefined) {
    const task = await followMoveTask(target, options, progress);
    return { mode: 'move-task', waiting, generation, ...task };
  }
  const moved = await moveInBatches(target, options, planned, generation, progress);
  return { mode: 'batches', waiting, generation, ...moved };
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  return Attributes!.QueueArn!;
}

/** A look at the first dead letters without moving them; their receive count in the DLQ does not matter. */
async function peek(target: RedriveTarget, count: number): Promise<string[]> {
  if (count === 0) return [];
  const { Messages = [] } = await target.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: target.deadLetterUrl, MaxNumberOfMessages: count, WaitTimeSeconds: 1, VisibilityTimeout: 0 }),
  );
  return Messages.map(describe);
}

function describe(message: Message): string {
  try {
    const body = JSON.parse(message.Body ?? '') as { requestId?: unknown };
    if (typeof body.requestId === 'string') return body.requestId;
  } catch {
    // Not one of ours: name it by its message id.
  }
  return message.MessageId ?? '?';
}

const TASK_ACTIVE = new Set(['RUNNING', 'CANCELLING']);

/** Starts a move task, or follows the one already running, until it ends. */
async function followMoveTask(
  target: RedriveTarget,
  options: RedriveOptions,
  progress: Progress,
): Promise<{ moved: number; failed: number; taskStatus: string }> {
  const [sourceArn, deadLetterArn] = await Promise.all([queueArn(target.sqs, target.queueUrl), queueArn(target.sqs, target.deadLetterUrl)]);
  const latest = async () =>
    (await target.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: deadLetterArn, MaxResults: 1 }))).Results?.[0];
  const before = await latest();
  let stale: number | undefined;
  if (!before || !TASK_ACTIVE.has(before.Status ?? '')) {
    await target.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: deadLetterArn, DestinationArn: sourceArn }));
    // Until the new task is listed, the list may still show the previous, finished one.
    stale = before?.StartedTimestamp;
  }
  for (;;) {
    const task = await latest();
    if (stale !== undefined && task?.StartedTimestamp === stale) {
      await sleep(options.pollIntervalMs ?? 2_000);
      continue;
    }
    const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
    progress.update(moved, Math.max(task?.ApproximateNumberOfMessagesToMove ?? moved, moved));
    if (!task || !TASK_ACTIVE.has(task.Status ?? '')) {
      progress.finish();
      if (task?.Status === 'FAILED') throw new Error(`The move task failed: ${task.FailureReason ?? 'no reason given'}`);
      return { moved, failed: 0, taskStatus: task?.Status ?? 'UNKNOWN' };
    }
    await sleep(options.pollIntervalMs ?? 2_000);
  }
}

/**
 * The message attribute a batch redrive stamps on every message it moves: the run's generation.
 * Attributes travel with a message into the DLQ, so a run recognises its own messages coming back.
 */
export const REDRIVE_GENERATION_ATTRIBUTE = 'Herald-Redrive-Generation';

/**
 * Receive → send → delete, ten at a time; a message is deleted from the DLQ only once the queue has
 * it. Stops once `planned` messages were moved or refused, when the DLQ has nothing visible left,
 * or when a receive brings only messages this run already moved: those are hidden by the receive,
 * so what remains visible is either gone or unreachable for now, and waiting for it could last as
 * long as messages keep failing.
 */
async function moveInBatches(
  target: RedriveTarget,
  options: RedriveOptions,
  planned: number,
  generation: number,
  progress: Progress,
): Promise<{ moved: number; failed: number; cameBack: number }> {
  let moved = 0;
  let failed = 0;
  const setAside: Message[] = [];
  progress.update(0, planned);
  try {
    while (moved + failed < planned) {
      const { Messages = [] } = await target.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: target.deadLetterUrl,
          MaxNumberOfMessages: Math.min(10, planned - moved - failed),
          WaitTimeSeconds: 1,
          VisibilityTimeout: options.visibilityTimeoutSeconds ?? 60,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['MessageGroupId'],
        }),
      );
      const movable = Messages.filter((message) => movedBy(message) !== generation);
      setAside.push(...Messages.filter((message) => movedBy(message) === generation));
      if (movable.length === 0) break;
      const sent = await target.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: target.queueUrl,
          Entries: movable.map((message, index) => ({
            Id: String(index),
            MessageBody: message.Body ?? '',
            // The tenant goes back with the message, so fair queues still tell whose it is.
            ...(message.Attributes?.MessageGroupId ? { MessageGroupId: message.Attributes.MessageGroupId } : {}),
            MessageAttributes: stampedAttributes(message.MessageAttributes ?? {}, generation),
          })),
        }),
      );
      const delivered = (sent.Successful ?? []).map((entry) => movable[Number(entry.Id)]!);
      failed += sent.Failed?.length ?? 0;
      if (delivered.length > 0) {
        await target.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: target.deadLetterUrl,
            Entries: delivered.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
          }),
        );
      }
      moved += delivered.length;
      progress.update(moved, planned);
      // Refused messages stay hidden until their visibility timeout ends; stop rather than spin on them.
      if (delivered.length === 0) break;
    }
  } finally {
    await release(target, setAside);
  }
  progress.finish();
  return { moved, failed, cameBack: setAside.length };
}

/** The generation of the batch redrive that last moved this message, if one did. */
function movedBy(message: Message): number | undefined {
  const stamp = message.MessageAttributes?.[REDRIVE_GENERATION_ATTRIBUTE]?.StringValue;
  return stamp === undefined ? undefined : Number(stamp);
}

/** Makes the messages a run set aside visible again at once, so the next redrive finds them. */
async function release(target: RedriveTarget, messages: readonly Message[]): Promise<void> {
  for (let start = 0; start < messages.length; start += 10) {
    await target.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: target.deadLetterUrl,
        Entries: messages.slice(start, start + 10).map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle!,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
}

/** The message's own attributes, with this run's generation stamped over any earlier run's. */
function stampedAttributes(attributes: Record<string, MessageAttributeValue>, generation: number): Record<string, MessageAttributeValue> {
  return { ...copyAttributes(attributes), [REDRIVE_GENERATION_ATTRIBUTE]: { DataType: 'Number', StringValue: String(generation) } };
}

/** Message attributes as SendMessage takes them: the received form also carries empty list members SQS refuses. */
function copyAttributes(attributes: Record<string, MessageAttributeValue>): Record<string, MessageAttributeValue> {
  const copy: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes)) {
    copy[name] = {
      DataType: value.DataType,
      ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { BinaryValue: value.BinaryValue } : {}),
    };
  }
  return copy;
}
