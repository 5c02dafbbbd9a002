/**
 * `herald tail [--merchant ID]`: follows request transitions and webhook delivery attempts as
 * they happen, one line each (one JSON object per line with `--json`).
 *
 * The table is the only source every target has, so tail polls it once a second through the
 * stores' own reads. With `--merchant` it reads that merchant's newest requests each round, so
 * it sees every transition of them. Without, on the local runtime, it lists every merchant
 * (a scan of a small table) and follows each the same way, so a request that ends within
 * milliseconds is printed too. On AWS, where a scan would read the whole table, it learns
 * merchants from the requests it finds waiting or in progress instead; a merchant none of whose
 * requests was ever caught unfinished stays out of view until one is, and says so at start.
 *
 * Bounds (each poll): the newest `TAIL_LIMITS.requestsPerMerchant` requests of at most
 * `TAIL_LIMITS.merchants` merchants, `TAIL_LIMITS.inFlight` unfinished requests per status, and
 * the deliveries of at most `TAIL_LIMITS.deliveryWatches` recently finished requests.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { dynamoRequestPorts } from '../../lambdas/adapters/dynamo-request-ports';
import { DynamoDeliveryStore } from '../../lambdas/adapters/dynamo-delivery-store';
import { DynamoMerchantStore } from '../../lambdas/adapters/dynamo-merchant-store';
import { isTerminal, type HeraldRequest, type HistoryEntry } from '../../lambdas/core/requests/request';
import type { Delivery, DeliveryAttempt } from '../../lambdas/core/webhooks/delivery';
import { defaults } from '../../lambdas/settings/requests';
import { CliUsageError, withTarget } from './context';
import { printError, printJson, printText, withoutControls } from './output';

export const USAGE = `Usage: herald tail [--merchant ID] [--interval SECONDS] [--duration SECONDS] [--json] <target>

Follows request transitions and webhook delivery attempts live, one line each, until Ctrl+C
(or for --duration seconds). --json prints one JSON object per line.
  --merchant ID         only this merchant's requests (and every one of them); without it,
                        the local runtime's every merchant, and on AWS the merchants whose
                        requests tail catches unfinished
  --interval SECONDS    how often the table is read (default 1)
  --duration SECONDS    stop after this long (default: run until interrupted)`;

export const TAIL_LIMITS = {
  merchants: 50,
  requestsPerMerchant: 25,
  inFlight: 100,
  deliveryWatches: 200,
  /** How long after a request finished its deliveries are still followed. */
  deliveryWatchMinutes: 30,
  /** Requests remembered to avoid printing a row twice; the oldest are forgotten first. */
  remembered: 5_000,
} as const;

export type TailLine =
  | {
      readonly kind: 'transition';
      readonly at: string;
      readonly requestId: string;
      readonly merchantId: string;
      readonly type: string;
      readonly from: string | null;
      readonly to: string;
      readonly attempt: number;
      readonly reason?: string;
      readonly step?: string;
    }
  | {
      readonly kind: 'delivery';
      readonly at: string;
      readonly deliveryId: string;
      readonly requestId: string;
      readonly merchantId: string;
      readonly endpointId: string;
      readonly eventType: string;
      readonly attempt: number;
      readonly status?: number;
      readonly error?: string;
      readonly latencyMs: number;
      readonly state: string;
    };

/** Where tail reads from: the request and delivery stores' own reads, nothing of its own. */
export interface TailSources {
  newestOf(merchantId: string, limit: number): Promise<readonly HeraldRequest[]>;
  unfinished(limit: number): Promise<readonly HeraldRequest[]>;
  get(id: string): Promise<HeraldRequest | undefined>;
  deliveriesOf(requestId: string): Promise<readonly Delivery[]>;
  /** Every merchant, where listing them is cheap (the local runtime); absent on AWS. */
  allMerchants?(limit: number): Promise<readonly string[]>;
}

const rowKey = (row: { at: string; to?: string; attempt: number; step?: string }) => `${row.at}|${row.to ?? ''}|${row.attempt}|${row.step ?? ''}`;

/**
 * What changed since the last poll, as lines in time order. Only rows stamped at or after
 * `since` are reported, so starting tail does not replay the past.
 */
export class ActivityFeed {
  private readonly printed = new Map<string, Set<string>>();
  private readonly merchants = new Set<string>();
  /** Unfinished requests seen last round, re-read until they finish (a fast one may leave every listing in between). */
  private readonly unfinishedIds = new Set<string>();
  /** Finished requests whose deliveries are followed, by when they finished. */
  private readonly deliveryWatches = new Map<string, number>();

  constructor(
    private readonly sources: TailSources,
    private readonly since: string,
    private readonly merchantId?: string,
  ) {
    if (merchantId) this.merchants.add(merchantId);
  }

  async poll(now = new Date()): Promise<TailLine[]> {
    const found = new Map<string, HeraldRequest>();
    const add = (request: HeraldRequest | undefined) => {
      if (request && (!this.merchantId || request.merchantId === this.merchantId)) found.set(request.id, request);
    };
    if (!this.merchantId && this.sources.allMerchants) {
      for (const merchantId of await this.sources.allMerchants(TAIL_LIMITS.merchants)) this.rememberMerchant(merchantId);
    }
    if (!this.merchantId) {
      for (const request of await this.sources.unfinished(TAIL_LIMITS.inFlight)) {
        add(request);
        this.rememberMerchant(request.merchantId);
      }
    }
    const listed = await Promise.all([...this.merchants].map((m) => this.sources.newestOf(m, TAIL_LIMITS.requestsPerMerchant)));
    listed.flat().forEach(add);
    const missing = [...this.unfinishedIds].filter((id) => !found.has(id));
    (await Promise.all(missing.map((id) => this.sources.get(id)))).forEach(add);

    const lines: TailLine[] = [];
    this.unfinishedIds.clear();
    for (const request of found.values()) {
      lines.push(...this.newTransitions(request));
      if (!isTerminal(request.status)) this.unfinishedIds.add(request.id);
      else if (request.webhookEvents !== false && request.updatedAt >= this.since && !this.deliveryWatches.has(request.id)) {
        this.deliveryWatches.set(request.id, Date.parse(request.updatedAt));
      }
    }
    lines.push(...(await this.newDeliveryAttempts(now)));
    return lines.sort((a, b) => a.at.localeCompare(b.at));
  }

  private rememberMerchant(merchantId: string): void {
    this.merchants.delete(merchantId);
    this.merchants.add(merchantId);
    if (this.merchants.size > TAIL_LIMITS.merchants) this.merchants.delete(this.merchants.values().next().value!);
  }

  private seen(id: string): Set<string> {
    let rows = this.printed.get(id);
    if (!rows) {
      rows = new Set();
      this.printed.set(id, rows);
      if (this.printed.size > TAIL_LIMITS.remembered) this.printed.delete(this.printed.keys().next().value!);
    }
    return rows;
  }

  private newTransitions(request: HeraldRequest): TailLine[] {
    const rows = this.seen(request.id);
    const fresh = request.history.filter((entry) => entry.at >= this.since && !rows.has(rowKey(entry)));
    fresh.forEach((entry) => rows.add(rowKey(entry)));
    return fresh.map((entry: HistoryEntry) => ({
      kind: 'transition',
      at: entry.at,
      requestId: request.id,
      merchantId: request.merchantId,
      type: request.type,
      from: entry.from,
      to: entry.to,
      attempt: entry.attempt,
      ...(entry.reason ? { reason: entry.reason } : {}),
      ...(entry.step ? { step: entry.step } : {}),
    }));
  }

  private async newDeliveryAttempts(now: Date): Promise<TailLine[]> {
    const horizon = now.getTime() - TAIL_LIMITS.deliveryWatchMinutes * 60_000;
    for (const [id, finishedAt] of this.deliveryWatches) if (finishedAt < horizon) this.deliveryWatches.delete(id);
    while (this.deliveryWatches.size > TAIL_LIMITS.deliveryWatches) this.deliveryWatches.delete(this.deliveryWatches.keys().next().value!);
    const ids = [...this.deliveryWatches.keys()];
    const deliveries = (await Promise.all(ids.map((id) => this.sources.deliveriesOf(id)))).flat();
    const lines: TailLine[] = [];
    for (const delivery of deliveries) {
      const rows = this.seen(delivery.id);
      for (const attempt of delivery.attempts) {
        const key = rowKey({ ...attempt, to: `round${delivery.round}` });
        if (attempt.at < this.since || rows.has(key)) continue;
        rows.add(key);
        lines.push(deliveryLine(delivery, attempt));
      }
    }
    return lines;
  }
}

function deliveryLine(delivery: Delivery, attempt: DeliveryAttempt): TailLine {
  return {
    kind: 'delivery',
    at: attempt.at,
    deliveryId: delivery.id,
    requestId: delivery.subjectId,
    merchantId: delivery.merchantId,
    endpointId: delivery.endpointId,
    eventType: delivery.eventType,
    attempt: attempt.attempt,
    ...(attempt.status !== undefined ? { status: attempt.status } : {}),
    ...(attempt.error ? { error: attempt.error } : {}),
    latencyMs: attempt.latencyMs,
    state: delivery.state,
  };
}

/**
 * One line for a terminal: time, what, and the few fields that tell the story. Step names,
 * reasons and delivery errors carry what merchants and their receivers wrote: each is kept to
 * one line without control characters.
 */
export function formatTailLine(line: TailLine): string {
  if (line.kind === 'transition') {
    const change = line.step ? `step ${withoutControls(line.step)}` : `${line.from ?? '-'} → ${line.to}`;
    return `${line.at}  ${line.requestId}  ${withoutControls(line.type)}  ${change}  attempt ${line.attempt}${line.reason ? `  ${withoutControls(line.reason)}` : ''}`;
  }
  const outcome = line.status !== undefined ? `HTTP ${line.status}` : withoutControls(line.error ?? 'no answer');
  return `${line.at}  ${line.deliveryId}  ${line.eventType} → ${line.endpointId}  attempt ${line.attempt}  ${outcome}  ${line.latencyMs} ms  ${line.state}`;
}

function seconds(value: string | boolean | undefined, name: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new CliUsageError(`--${name} takes a number of seconds above 0\n\n${USAGE}`);
  return parsed;
}

export async function run(argv: string[]): Promise<void> {
  const options = { merchant: { type: 'string' }, interval: { type: 'string' }, duration: { type: 'string' } } as const;
  await withTarget(argv, options, USAGE, async (target, { values, positionals }) => {
    if (positionals.length) throw new CliUsageError(USAGE);
    const intervalMs = seconds(values.interval, 'interval', 1)! * 1000;
    const duration = seconds(values.duration, 'duration');
    const requests = dynamoRequestPorts(target.dynamo, target.tableName, defaults.requestRetentionDays, target.bodies);
    const merchants = new DynamoMerchantStore(target.dynamo, target.tableName);
    const followsEveryone = values.merchant === undefined && target.kind === 'local';
    const deliveries = new DynamoDeliveryStore(target.dynamo, target.tableName);
    const feed = new ActivityFeed(
      {
        newestOf: async (merchantId, limit) => (await requests.queries.listForMerchant(merchantId, { limit })).requests,
        unfinished: async (limit) => [
          ...(await requests.sweeper.findUnfinished('accepted', limit)),
          ...(await requests.sweeper.findUnfinished('processing', limit)),
        ],
        get: (id) => requests.queries.get(id),
        deliveriesOf: (id) => deliveries.listForSubject(id),
        ...(followsEveryone ? { allMerchants: (limit: number) => merchants.scanMerchantIds(limit) } : {}),
      },
      new Date().toISOString(),
      values.merchant === undefined ? undefined : String(values.merchant),
    );
    const stopAt = duration === undefined ? Infinity : Date.now() + duration * 1000;
    let interrupted = false;
    const onSignal = () => (interrupted = true);
    process.once('SIGINT', onSignal);
    printError(`Following ${target.description}${values.merchant ? ` for ${values.merchant}` : followsEveryone ? ' for every merchant' : ''}; Ctrl+C to stop.`);
    if (values.merchant === undefined && !followsEveryone) {
      printError(
        'Without --merchant, tail follows the merchants whose requests it finds waiting or in progress: a request that ' +
          'ends between two reads of a merchant not yet followed is missed. Pass --merchant ID to follow every request of one merchant.',
      );
    }
    try {
      while (!interrupted && Date.now() < stopAt) {
        for (const line of await feed.poll()) (values.json ? printJson(line) : printText(formatTailLine(line)));
        await sleep(Math.max(0, Math.min(intervalMs, stopAt - Date.now())));
      }
    } finally {
      process.off('SIGINT', onSignal);
    }
  });
}
