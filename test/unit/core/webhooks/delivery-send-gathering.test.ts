import { DeliveryMessagesNotSent, DeliverySendGathering, type GatheringTimers } from '../../../../lambdas/core/webhooks/delivery-send-gathering';
import type { DeliveryMessage } from '../../../../lambdas/core/webhooks/delivery-message';
import type { DeliveryMessageSender, DeliveryQueue } from '../../../../lambdas/core/webhooks/ports';

const message = (deliveryId: string): DeliveryMessage => ({
  deliveryId,
  merchantId: 'mer_g',
  endpointId: 'ep_g',
  subjectId: `req_${deliveryId}`,
  eventType: 'request.succeeded',
  eventTimestamp: '2026-12-05T12:00:00.000Z',
  round: 1,
});

/** A transport that records each call and fails the deliveries named in `failing`. */
function transport(failing: ReadonlySet<string> = new Set()) {
  const calls: string[][] = [];
  const direct: { messages: string[]; delaySeconds?: number }[] = [];
  const queue: DeliveryQueue & DeliveryMessageSender = {
    async sendEach(messages) {
      calls.push(messages.map((m) => m.deliveryId));
      return messages.flatMap((m, i) => (failing.has(m.deliveryId) ? [i] : []));
    },
    async send(messages, options) {
      direct.push({ messages: messages.map((m) => m.deliveryId), ...(options?.delaySeconds !== undefined ? { delaySeconds: options.delaySeconds } : {}) });
    },
    async delayRedelivery() {},
  };
  return { queue, calls, direct };
}

/** Timers run by hand, so that the tests say when the wait ends rather than racing a clock. */
function manualTimers() {
  const pending = new Map<number, () => void>();
  let next = 0;
  const timers: GatheringTimers = {
    setTimeout: (run) => {
      pending.set(++next, run);
      return next;
    },
    clearTimeout: (timer) => pending.delete(timer as number),
  };
  return { timers, fireAll: () => [...pending.entries()].forEach(([id, run]) => (pending.delete(id), run())), count: () => pending.size };
}

const settle = (promise: Promise<unknown>) => promise.then(() => 'sent', (error: Error) => error);
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('gathering a batch\'s delivery sends', () => {
  it('sends the messages of every record of the batch in one call once each record has handed its messages over or finished', async () => {
    const { queue, calls } = transport();
    const { timers, count } = manualTimers();
    const gathering = new DeliverySendGathering(queue, 4, 200, timers);

    const first = settle(gathering.send([message('a')]));
    const second = settle(gathering.send([message('b'), message('c')]));
    await tick();
    expect(calls).toEqual([]);
    expect(count()).toBe(1);

    gathering.recordSettled(); // a record that announced nothing
    const fourth = settle(gathering.send([message('d')]));

    expect(await Promise.all([first, second, fourth])).toEqual(['sent', 'sent', 'sent']);
    expect(calls).toEqual([['a', 'b', 'c', 'd']]);
    expect(count()).toBe(0);
  });

  it('sends what waits when the wait runs out, without the record that is still working', async () => {
    const { queue, calls } = transport();
    const { timers, fireAll } = manualTimers();
    const gathering = new DeliverySendGathering(queue, 3, 200, timers);

    const fast = settle(gathering.send([message('a')]));
    const alsoFast = settle(gathering.send([message('b')]));
    await tick();
    expect(calls).toEqual([]);
    fireAll();
    expect(await Promise.all([fast, alsoFast])).toEqual(['sent', 'sent']);

    gathering.recordSettled();
    gathering.recordSettled();
    // The slow record's messages go alone, at once: nobody else can add to them any more.
    const slow = settle(gathering.send([message('c')]));
    expect(await slow).toBe('sent');
    expect(calls).toEqual([['a', 'b'], ['c']]);
  });

  it('sends at once when ten messages wait: waiting longer would save no call', async () => {
    const { queue, calls } = transport();
    const { timers } = manualTimers();
    const gathering = new DeliverySendGathering(queue, 20, 200, timers);
    const ten = Array.from({ length: 10 }, (_, i) => message(`m${i}`));

    const four = settle(gathering.send(ten.slice(0, 4)));
    await tick();
    expect(calls).toEqual([]);
    const six = settle(gathering.send(ten.slice(4)));

    expect(await Promise.all([four, six])).toEqual(['sent', 'sent']);
    expect(calls).toEqual([ten.map((m) => m.deliveryId)]);
  });

  it('fails only the records whose messages were not sent; the others of the same call go through', async () => {
    const { queue, calls } = transport(new Set(['b2']));
    const gathering = new DeliverySendGathering(queue, 3, 200, manualTimers().timers);

    const results = Promise.all([
      settle(gathering.send([message('a1')])),
      settle(gathering.send([message('b1'), message('b2')])),
      settle(gathering.send([message('c1')])),
    ]);
    const [a, b, c] = await results;

    expect(calls).toEqual([['a1', 'b1', 'b2', 'c1']]);
    expect(a).toBe('sent');
    expect(c).toBe('sent');
    expect(b).toBeInstanceOf(DeliveryMessagesNotSent);
    expect(b).toMatchObject({ unsent: 1, of: 2 });
  });

  it('fails every record of a call that failed as a whole', async () => {
    const queue: DeliveryQueue & DeliveryMessageSender = {
      sendEach: async () => {
        throw new Error('queue unreachable');
      },
      send: async () => undefined,
      delayRedelivery: async () => undefined,
    };
    const gathering = new DeliverySendGathering(queue, 2, 200, manualTimers().timers);
    const outcomes = await Promise.all([settle(gathering.send([message('a')])), settle(gathering.send([message('b')]))]);
    expect(outcomes.map((o) => (o instanceof Error ? o.message : o))).toEqual(['queue unreachable', 'queue unreachable']);
  });

  it('lets a delayed send go straight to the queue, with its delay', async () => {
    const { queue, calls, direct } = transport();
    const gathering = new DeliverySendGathering(queue, 5, 200, manualTimers().timers);
    await gathering.send([message('later')], { delaySeconds: 30 });
    expect(direct).toEqual([{ messages: ['later'], delaySeconds: 30 }]);
    expect(calls).toEqual([]);
  });
});
