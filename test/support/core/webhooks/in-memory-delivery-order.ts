import { readyHeads, type DeliveryOrderLedger, type OrderingTicket, type OrderStanding, type PendingDelivery } from '../../../../lambdas/core/webhooks/delivery-order';
import type { InMemoryDeliveryStore } from './in-memory-ports';

/** The ordering keys' ledger in memory, marking waits on the in-memory deliveries it is given. */
export class InMemoryDeliveryOrderLedger implements DeliveryOrderLedger {
  private readonly open = new Map<string, Set<number>>();
  private readonly pending = new Map<string, Map<string, PendingDelivery[]>>();
  /** How many times each method ran: a request without a key must leave these at zero. */
  readonly calls: Record<string, number> = {};

  constructor(private readonly deliveries: InMemoryDeliveryStore) {}

  /** Opens numbers as submits would. */
  accept(merchantId: string, key: string, ...seqs: number[]): void {
    const open = this.open.get(`${merchantId}#${key}`) ?? new Set<number>();
    seqs.forEach((seq) => open.add(seq));
    this.open.set(`${merchantId}#${key}`, open);
  }

  async standing(merchantId: string, key: string, endpointId: string): Promise<OrderStanding> {
    this.count('standing');
    return { open: [...(this.open.get(`${merchantId}#${key}`) ?? [])], pending: [...(this.cursors(merchantId, key).get(endpointId) ?? [])] };
  }

  async handOver(merchantId: string, ticket: OrderingTicket, targets: readonly { readonly endpointId: string; readonly deliveryId: string }[]): Promise<void> {
    this.count('handOver');
    const open = this.open.get(`${merchantId}#${ticket.key}`);
    if (!open?.delete(ticket.seq)) return;
    const cursors = this.cursors(merchantId, ticket.key);
    for (const target of targets) cursors.set(target.endpointId, [...(cursors.get(target.endpointId) ?? []), { seq: ticket.seq, deliveryId: target.deliveryId }]);
  }

  async settle(merchantId: string, key: string, endpointId: string, deliveries: readonly PendingDelivery[]): Promise<void> {
    this.count('settle');
    const cursors = this.cursors(merchantId, key);
    cursors.set(endpointId, (cursors.get(endpointId) ?? []).filter((held) => !deliveries.some((d) => d.seq === held.seq && d.deliveryId === held.deliveryId)));
  }

  async withdraw(merchantId: string, key: string, seqs: readonly number[]): Promise<void> {
    this.count('withdraw');
    seqs.forEach((seq) => this.open.get(`${merchantId}#${key}`)?.delete(seq));
  }

  async heads(merchantId: string, key: string): Promise<PendingDelivery[]> {
    this.count('heads');
    return readyHeads([...(this.open.get(`${merchantId}#${key}`) ?? [])], [...this.cursors(merchantId, key).values()]);
  }

  async markWaiting(deliveryId: string, round: number): Promise<void> {
    this.count('markWaiting');
    const delivery = await this.deliveries.get(deliveryId);
    if (delivery?.state === 'pending' && delivery.round === round) this.deliveries.seed({ ...delivery, orderWait: 'waiting' });
  }

  async claim(deliveryId: string, round: number, expected: string, going: string): Promise<boolean> {
    this.count('claim');
    const delivery = await this.deliveries.get(deliveryId);
    if (delivery?.state !== 'pending' || delivery.round !== round || delivery.orderWait !== expected) return false;
    this.deliveries.seed({ ...delivery, orderWait: going });
    return true;
  }

  private cursors(merchantId: string, key: string): Map<string, PendingDelivery[]> {
    const cursors = this.pending.get(`${merchantId}#${key}`) ?? new Map<string, PendingDelivery[]>();
    this.pending.set(`${merchantId}#${key}`, cursors);
    return cursors;
  }

  private count(method: string): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
  }
}
