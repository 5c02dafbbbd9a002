import type { ApplyOutcome, CreateOutcome, ListPosition, RequestListing, RequestPage, RequestEventPublisher, RequestMessage, RequestIntake, RequestQueue, RequestReader, RequestStatusReader, RequestTransitions, RequestWithRecords, StuckQuery, StuckRequests, StuckRequestStore, UnfinishedRequests } from '../../../../lambdas/core/requests/ports';
import type { NotificationLedger } from '../../../../lambdas/core/notifications/ports';
import type { DeliveryStore } from '../../../../lambdas/core/webhooks/ports';
import type { RedriveLog } from '../../../../lambdas/core/requests/redrive';
import { isTerminal, type HeraldRequest, type RequestStatus } from '../../../../lambdas/core/requests/request';
import type { LifecyclePolicy, Transition } from '../../../../lambdas/core/requests/lifecycle-events';

/** Every request port, split as the DynamoDB composition hands them out (`dynamoRequestPorts`). */
export interface RequestPorts {
  readonly intake: RequestIntake;
  readonly lifecycle: RequestTransitions;
  readonly queries: RequestReader & RequestListing;
  readonly sweeper: StuckRequestStore & UnfinishedRequests;
}

/** The in-memory store in the same split: one map behind every part, as one table is behind the adapters. */
export function inMemoryRequestPorts(store = new InMemoryRequestStore()): RequestPorts {
  return { intake: store, lifecycle: store, queries: store, sweeper: store };
}

/**
 * The status read in memory: the request, then its deliveries and notification slots from their
 * own stores, read only once the request is known to be the merchant's, as the table's one Query
 * hands them out only then.
 */
export class InMemoryRequestStatusReader implements RequestStatusReader {
  constructor(
    private readonly requests: Pick<RequestReader, 'getForMerchant'>,
    private readonly deliveries: Pick<DeliveryStore, 'listForSubject'>,
    private readonly notifications: Pick<NotificationLedger, 'listForRequest'>,
  ) {}

  async getWithRecordsForMerchant(merchantId: string, id: string): Promise<RequestWithRecords | undefined> {
    const request = await this.requests.getForMerchant(merchantId, id);
    if (!request) return undefined;
    return { request, deliveries: await this.deliveries.listForSubject(id), notifications: await this.notifications.listForRequest(id) };
  }
}

/**
 * The request ports in memory, for use-case tests that run in milliseconds. They keep the
 * promises the DynamoDB adapters keep, because a fake that is kinder than the real store lets a
 * use case pass here and fail on AWS: a key (the id it derives) is taken once, every lifecycle
 * move core decided is written only while the stored request still matches the transition's
 * precondition (status, attempts, version, owner, history size), and nothing handed
 * out shares memory with what is stored. Lists and sweeps select and order as the table's
 * indexes do (a merchant's requests newest first; stuck ones by when the sweeper should look).
 */
export class InMemoryRequestStore implements RequestIntake, RequestReader, RequestTransitions, RequestListing, StuckRequestStore, UnfinishedRequests {
  private readonly requests = new Map<string, HeraldRequest>();
  private readonly fingerprints = new Map<string, string>();
  readonly policy: LifecyclePolicy;
  private readonly now: () => Date;

  constructor(options: { retentionDays?: number; now?: () => Date } = {}) {
    this.policy = { retentionDays: options.retentionDays ?? 30 };
    this.now = options.now ?? (() => new Date());
  }

  async create(request: HeraldRequest, fingerprint: string): Promise<CreateOutcome> {
    // As in the table: the id derives from the key, so a taken id is a taken key, for as long as the request is kept.
    const stored = this.requests.get(request.id);
    if (stored) return { outcome: 'exists', request: copy(stored), fingerprint: this.fingerprints.get(request.id) ?? '' };
    this.requests.set(request.id, copy(request));
    this.fingerprints.set(request.id, fingerprint);
    return { outcome: 'created' };
  }

  async markEnqueued(requestId: string, at: string): Promise<void> {
    this.setEnqueued(requestId, at);
  }

  async markNotEnqueued(requestId: string): Promise<void> {
    this.setEnqueued(requestId, undefined);
  }

  async get(id: string): Promise<HeraldRequest | undefined> {
    const stored = this.requests.get(id);
    return stored && copy(stored);
  }

  async getForMerchant(merchantId: string, id: string): Promise<HeraldRequest | undefined> {
    const stored = this.requests.get(id);
    return stored?.merchantId === merchantId ? copy(stored) : undefined;
  }

  async apply(id: string, transition: Transition): Promise<ApplyOutcome> {
    const written = this.write(id, transition);
    if (written) return { outcome: 'applied', request: written };
    const current = this.requests.get(id);
    return current ? { outcome: 'lost', current: copy(current) } : { outcome: 'lost' };
  }

  async listForMerchant(
    merchantId: string,
    query: { readonly status?: RequestStatus; readonly limit: number; readonly after?: ListPosition },
  ): Promise<RequestPage> {
    const position = (request: Pick<HeraldRequest, 'createdAt' | 'id'>) => `${request.createdAt}#${request.id}`;
    const after = query.after && position(query.after);
    const matching = [...this.requests.values()]
      .filter((request) => request.merchantId === merchantId && (!query.status || request.status === query.status))
      .filter((request) => after === undefined || position(request) < after)
      .sort((a, b) => position(b).localeCompare(position(a)));
    const requests = matching.slice(0, query.limit).map(copy);
    const last = requests.at(-1);
    return matching.length > query.limit && last ? { requests, next: { createdAt: last.createdAt, id: last.id } } : { requests };
  }

  async findStuck(query: StuckQuery): Promise<StuckRequests> {
    return {
      unqueued: this.sweepable('accepted', query.changedBefore, query.limit, (request) => !request.enqueuedAt || request.enqueuedAt < query.enqueuedBefore),
      leaseExpired: this.sweepable('processing', query.leaseEndedBefore, query.limit),
    };
  }

  async findUnfinished(status: 'accepted' | 'processing', limit: number): Promise<HeraldRequest[]> {
    return this.sweepable(status, '\uffff', limit);
  }

  async markResent(id: string, at: string): Promise<void> {
    const stored = this.requests.get(id);
    // A request that moved on since the sweeper read it is left alone.
    if (stored?.status === 'accepted') this.requests.set(id, withEnqueuedAt(stored, at));
  }

  /** Puts a request in a given state, as a test's arrange step; nothing is checked. */
  seed(request: HeraldRequest): void {
    this.requests.set(request.id, copy(request));
  }

  /** The ids of every stored request, in the order they were stored. */
  ids(): string[] {
    return [...this.requests.keys()];
  }

  get size(): number {
    return this.requests.size;
  }

  /** The status index: non-terminal requests of a status whose sweep time is before `before`, earliest first. */
  private sweepable(status: RequestStatus, before: string, limit: number, keep: (request: HeraldRequest) => boolean = () => true): HeraldRequest[] {
    const sweepTime = (request: HeraldRequest) =>
      request.status === 'processing' && request.leaseUntil ? request.leaseUntil : (request.nextAttemptAt ?? request.updatedAt);
    return [...this.requests.values()]
      .filter((request) => request.status === status && !isTerminal(request.status) && sweepTime(request) < before && keep(request))
      .sort((a, b) => `${sweepTime(a)}#${a.id}`.localeCompare(`${sweepTime(b)}#${b.id}`))
      .slice(0, limit)
      .map(copy);
  }

  /** One conditional write: applies the transition only if the stored request still meets its precondition. */
  private write(id: string, transition: Transition): HeraldRequest | undefined {
    const stored = this.requests.get(id);
    if (!stored || !holds(stored, transition.precondition)) return undefined;
    // The item's expiry is the table's business; the request the port hands out does not carry it.
    const { expiresAt: _expiry, ...set } = transition.set;
    const next: Draft = { ...stored };
    for (const [field, value] of Object.entries(set)) if (value !== undefined) Object.assign(next, { [field]: value });
    for (const field of transition.remove) if (field !== 'expiresAt') delete next[field];
    next.history = transition.history.mode === 'append' ? [...stored.history, ...transition.history.rows] : [...transition.history.rows];
    next.version = stored.version + 1;
    const written = copy(next as HeraldRequest);
    this.requests.set(id, written);
    return copy(written);
  }

  private setEnqueued(requestId: string, at: string | undefined): void {
    const request = this.requests.get(requestId);
    if (request) this.requests.set(request.id, withEnqueuedAt(request, at));
  }
}

/** A request being written: every field may change or go. */
type Draft = { -readonly [K in keyof HeraldRequest]?: HeraldRequest[K] };

function holds(stored: HeraldRequest, precondition: Transition['precondition']): boolean {
  return (
    stored.status === precondition.status &&
    stored.attempts === precondition.attempts &&
    (precondition.version === undefined || stored.version === precondition.version) &&
    (precondition.merchantId === undefined || stored.merchantId === precondition.merchantId) &&
    (precondition.attemptsBelow === undefined || stored.attempts < precondition.attemptsBelow) &&
    (precondition.historyAtMost === undefined || stored.history.length <= precondition.historyAtMost) &&
    (!precondition.neverRedriven || stored.redriveGeneration === undefined)
  );
}

function withEnqueuedAt<T extends { enqueuedAt?: string }>(item: T, at: string | undefined): T {
  const { enqueuedAt: _previous, ...rest } = item;
  return (at === undefined ? rest : { ...rest, enqueuedAt: at }) as T;
}


/** A deep copy, as a round trip through the table would make. */
export function copy<T>(value: T): T {
  return structuredClone(value);
}

/** The requests queue: what was sent, and the waits asked of received messages. */
export class InMemoryRequestQueue implements RequestQueue {
  readonly sent: { readonly message: RequestMessage; readonly traceId?: string; readonly delaySeconds?: number }[] = [];
  readonly delays: { readonly receiptHandle: string; readonly seconds: number }[] = [];
  private refusals = 0;

  /** The next `count` sends fail, as SQS does when it throttles or is unreachable. */
  refuseNext(count = 1): void {
    this.refusals = count;
  }

  async enqueue(message: RequestMessage, traceId?: string, delaySeconds?: number): Promise<void> {
    if (this.refusals > 0) {
      this.refusals--;
      throw new Error('The queue refused the message');
    }
    this.sent.push({ message: copy(message), ...(traceId ? { traceId } : {}), ...(delaySeconds ? { delaySeconds } : {}) });
  }

  async delayRedelivery(receiptHandle: string, seconds: number): Promise<void> {
    this.delays.push({ receiptHandle, seconds });
  }
}

/** Records every finished request it is told about, in order. */
export class RecordingEventPublisher implements RequestEventPublisher {
  readonly finished: HeraldRequest[] = [];

  async requestFinished(request: HeraldRequest): Promise<void> {
    this.finished.push(copy(request));
  }
}

/** Redrive generations per queue, counted as the table's atomic counter counts them. */
export class InMemoryRedriveLog implements RedriveLog {
  private readonly generations = new Map<string, number>();

  async generation(queue: string): Promise<number> {
    return this.generations.get(queue) ?? 0;
  }

  async begin(queue: string): Promise<number> {
    const next = (this.generations.get(queue) ?? 0) + 1;
    this.generations.set(queue, next);
    return next;
  }
}
