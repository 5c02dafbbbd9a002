/**
 * The status stream of one request (`GET /v1/requests/{id}/events`, `text/event-stream`): one
 * server-sent event per transition, named by the status it reached, until a terminal one.
 *
 * The stream is read from the request's own history, so it can never disagree with what
 * `GET /v1/requests/{id}` answers, and a reconnecting client that sends `Last-Event-ID` gets
 * exactly the transitions after that one. Polling stays the contract; this is a convenience.
 */
import { isTerminal, type HeraldRequest, type HistoryEntry, type RequestStatus } from './request';

/** One transition as a server-sent event. */
export interface RequestEvent {
  /** `<at>/<status>`: unique per transition of a request, and orderable by time when the row it names is gone. */
  readonly id: string;
  readonly event: RequestStatus;
  readonly data: {
    readonly id: string;
    readonly type: string;
    readonly status: RequestStatus;
    readonly from: RequestStatus | null;
    readonly at: string;
    readonly attempt: number;
    readonly reason?: string;
  };
}

/** Bounds of one stream: how often the request is read, and how long one connection may stay open. */
export interface StreamLimits {
  readonly pollIntervalMs: number;
  /** The stream closes after this long even if the request is not finished; the client reconnects with Last-Event-ID. */
  readonly maxDurationMs: number;
  /** A comment line this often keeps proxies from closing an idle connection. */
  readonly heartbeatMs: number;
  /**
   * The `retry:` a client waits before reconnecting after the connection drops: seconds, not the
   * poll interval, so a stream that ends does not become a reconnect loop.
   */
  readonly reconnectMs: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = { pollIntervalMs: 1_000, maxDurationMs: 5 * 60_000, heartbeatMs: 15_000, reconnectMs: 5_000 };

const eventIdOf = (entry: HistoryEntry) => `${entry.at}/${entry.to}`;

/**
 * The transitions of a request after the one `lastEventId` names, as events. An id whose row
 * was trimmed from the history (a request retried very often keeps its first and latest rows)
 * still places the client in time: every later transition is sent.
 *
 * @example transitionsAfter(request) // every transition so far: accepted, processing, …
 */
export function transitionsAfter(request: HeraldRequest, lastEventId?: string): RequestEvent[] {
  const transitions = request.history.filter((entry) => entry.step === undefined);
  let start = 0;
  if (lastEventId) {
    const index = transitions.findIndex((entry) => eventIdOf(entry) === lastEventId);
    const lastAt = lastEventId.slice(0, lastEventId.lastIndexOf('/'));
    start = index >= 0 ? index + 1 : transitions.findIndex((entry) => entry.at > lastAt);
    if (start < 0) start = transitions.length;
  }
  return transitions.slice(start).map((entry) => ({
    id: eventIdOf(entry),
    event: entry.to,
    data: {
      id: request.id,
      type: request.type,
      status: entry.to,
      from: entry.from,
      at: entry.at,
      attempt: entry.attempt,
      ...(entry.reason ? { reason: entry.reason } : {}),
    },
  }));
}

/** An event in the `text/event-stream` wire format (the data is one JSON line, so no field can break the framing). */
export function formatServerSentEvent(event: RequestEvent): string {
  return `id: ${event.id}\nevent: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/**
 * True when a client reconnecting with `lastEventId` has seen the whole stream: the request is
 * finished and nothing follows that event. The edge answers it `204 No Content`, the one answer
 * that makes a browser's `EventSource` stop reconnecting.
 */
export function streamFinishedFor(request: HeraldRequest, lastEventId: string | undefined): boolean {
  return lastEventId !== undefined && lastEventId !== '' && isTerminal(request.status) && transitionsAfter(request, lastEventId).length === 0;
}

/**
 * The open streams a merchant may hold at once: a slot is taken for the life of one stream and
 * given back when it ends; a lease (`until`) frees a slot whose holder vanished without giving it back.
 */
export interface StreamSlots {
  /** Takes a free slot for the stream, or answers false when every one is held. */
  acquire(merchantId: string, streamId: string, until: Date): Promise<boolean>;
  release(merchantId: string, streamId: string): Promise<void>;
}

/** What the stream writes to; the HTTP edge adapts it to a Lambda response stream or a Node response. */
export interface EventSink {
  write(text: string): void;
  /** True once the client has gone away: the stream stops reading the table. */
  readonly closed: boolean;
}

export interface FollowDependencies {
  /** Reads the request as its owner sees it; undefined once it is gone (expired). */
  readonly read: () => Promise<HeraldRequest | undefined>;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

/**
 * Writes the transitions after `lastEventId` as they happen, until the request is terminal, it
 * disappears, the client leaves or `maxDurationMs` passes. Returns why it stopped.
 */
export async function followRequest(
  first: HeraldRequest,
  lastEventId: string | undefined,
  sink: EventSink,
  deps: FollowDependencies,
  limits: StreamLimits = DEFAULT_STREAM_LIMITS,
): Promise<'terminal' | 'gone' | 'closed' | 'time-limit'> {
  const now = deps.now ?? Date.now;
  const deadline = now() + limits.maxDurationMs;
  // Tells the client how soon to reconnect should the connection drop (the EventSource default is ~3 s).
  sink.write(`retry: ${limits.reconnectMs}\n\n`);
  let request: HeraldRequest | undefined = first;
  let last = lastEventId;
  let lastWrite = now();
  for (;;) {
    for (const event of transitionsAfter(request, last)) {
      sink.write(formatServerSentEvent(event));
      last = event.id;
      lastWrite = now();
    }
    if (isTerminal(request.status)) return 'terminal';
    if (sink.closed) return 'closed';
    if (now() >= deadline) return 'time-limit';
    if (now() - lastWrite >= limits.heartbeatMs) {
      sink.write(': still waiting\n\n');
      lastWrite = now();
    }
    await deps.sleep(Math.min(limits.pollIntervalMs, Math.max(0, deadline - now())));
    request = await deps.read();
    if (!request) return 'gone';
  }
}
