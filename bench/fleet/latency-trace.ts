/**
 * Where the slowest healthy deliveries spent their time (`--trace`): for each healthy 2xx, its
 * request's wait for a process worker, the processing, the delivery's wait for a deliver worker,
 * the time its retries took, and the answer itself; summed up over the slowest 1 %.
 */
export class LatencyTrace {
  private readonly requests = new Map<string, { firstReceive: number; finished: number }>();
  private readonly deliveries = new Map<string, { firstReceive: number; lastReceive: number; receives: number }>();
  private readonly rows: number[][] = [];

  requestReceived(requestId: string, at: number): void {
    if (!this.requests.has(requestId)) this.requests.set(requestId, { firstReceive: at, finished: at });
  }

  requestFinished(requestId: string, at: number): void {
    const entry = this.requests.get(requestId);
    if (entry) entry.finished = at;
  }

  deliveryReceived(deliveryId: string, at: number): void {
    const entry = this.deliveries.get(deliveryId);
    if (entry) {
      entry.lastReceive = at;
      entry.receives++;
    } else this.deliveries.set(deliveryId, { firstReceive: at, lastReceive: at, receives: 1 });
  }

  answered(requestId: string, deliveryId: string, submittedAt: number, at: number, answerMs: number): void {
    const request = this.requests.get(requestId);
    const delivery = this.deliveries.get(deliveryId);
    if (!request || !delivery) return;
    this.rows.push([at - submittedAt, request.firstReceive - submittedAt, request.finished - request.firstReceive, delivery.firstReceive - request.finished, delivery.lastReceive - delivery.firstReceive, answerMs, delivery.receives]);
  }

  /** One line: the slowest 1 % of healthy deliveries, mean seconds per stage, and how many were retried. */
  summary(): string {
    const tail = [...this.rows].sort((a, b) => a[0]! - b[0]!).slice(Math.floor(this.rows.length * 0.99));
    if (tail.length === 0) return 'slowest 1 %: none';
    const mean = (i: number) => (tail.reduce((sum, row) => sum + row[i]!, 0) / tail.length / 1000).toFixed(2);
    const retried = tail.filter((row) => row[6]! > 1).length;
    const waitedForWorker = tail.filter((row) => row[6]! <= 1 && (row[1]! > 1000 || row[3]! > 1000)).length;
    return (
      `slowest 1 % (${tail.length}): mean ${mean(0)} s = request wait ${mean(1)} s + processing ${mean(2)} s + delivery wait ${mean(3)} s + retries ${mean(4)} s + answer ${mean(5)} s; ` +
      `${retried} retried, ${waitedForWorker} waited over 1 s for a worker`
    );
  }
}
