import { NotificationRejectedError } from '../../../../lambdas/core/notifications/notification-errors';
import { notifyEndpointDisabled, notifyRequestFinished, type NotifierDependencies } from '../../../../lambdas/core/notifications/notifier';
import { setOperationsContacts } from '../../../../lambdas/core/notifications/operations-contacts';
import type { HeraldRequest } from '../../../../lambdas/core/requests/request';
import {
  InMemoryNotificationLedger,
  InMemoryNotificationTopic,
  InMemoryOperationsContactsStore,
  InMemoryRecipientSubscriptions,
  RecordingSmsSender,
} from '../../../support/core/notifications/in-memory-ports';

const NOW = new Date('2026-03-10T12:00:00Z');
const PHONE = '+14155550100';
const EMAIL = 'ana@example.com';

function setup() {
  const ledger = new InMemoryNotificationLedger();
  const sms = new RecordingSmsSender();
  const topic = new InMemoryNotificationTopic();
  const contacts = new InMemoryOperationsContactsStore();
  const logged: string[] = [];
  const deps: NotifierDependencies = {
    ledger,
    sms,
    topic,
    recipients: new InMemoryRecipientSubscriptions(),
    contacts,
    maxAttempts: 3,
    now: () => NOW,
    log: (message) => void logged.push(message),
  };
  return { deps, ledger, sms, topic, contacts, logged };
}

function finished(status: 'succeeded' | 'failed', extra: Partial<HeraldRequest> = {}): HeraldRequest {
  const at = NOW.toISOString();
  return {
    id: 'req_1',
    merchantId: 'mer_a',
    type: 'order.process',
    payload: {},
    status,
    version: 3,
    attempts: 1,
    idempotencyKey: 'k1',
    webhookEvents: true,
    ...(status === 'failed' ? { error: { code: 'over_limit', message: 'refused', retryable: false } } : { result: { ok: true } }),
    history: [],
    createdAt: at,
    updatedAt: at,
    ...extra,
  };
}

describe('notifyRequestFinished', () => {
  it('texts the requester once however often the worker tells it', async () => {
    const { deps, sms, ledger } = setup();
    const request = finished('succeeded', { notify: { sms: PHONE } });

    await notifyRequestFinished(deps, request);
    await notifyRequestFinished(deps, request);

    expect(sms.sent.map((message) => message.to)).toEqual([PHONE]);
    expect(await ledger.listForRequest('req_1')).toEqual([
      expect.objectContaining({ channel: 'sms', state: 'sent', attempts: 1, to: expect.not.stringContaining('5550100') }),
    ]);
  });

  it('sends again only the channel that failed when the message is retried', async () => {
    const { deps, sms, topic } = setup();
    const request = finished('succeeded', { notify: { sms: PHONE, email: EMAIL } });
    sms.failWith(new Error('throttled'));

    await expect(notifyRequestFinished(deps, request)).rejects.toThrow('throttled');
    await notifyRequestFinished(deps, request);

    expect(sms.sent).toHaveLength(1);
    expect(topic.subscriptionCount).toBe(1);
  });

  it('gives up on a text SNS rejected for good, without failing the message', async () => {
    const { deps, sms, ledger } = setup();
    const request = finished('succeeded', { notify: { sms: PHONE } });
    sms.failWith(new NotificationRejectedError('the number opted out'));

    await notifyRequestFinished(deps, request);
    await notifyRequestFinished(deps, request);

    expect(sms.sent).toEqual([]);
    expect(await ledger.listForRequest('req_1')).toEqual([expect.objectContaining({ state: 'failed', retryable: false, attempts: 1 })]);
  });

  it('stops retrying a text after the stated number of attempts', async () => {
    const { deps, sms, ledger } = setup();
    const request = finished('succeeded', { notify: { sms: PHONE } });
    sms.failWith(new Error('down'), new Error('down'), new Error('down'), new Error('down'));

    for (let attempt = 1; attempt <= 3; attempt++) await notifyRequestFinished(deps, request).catch(() => undefined);
    await notifyRequestFinished(deps, request);

    expect(await ledger.listForRequest('req_1')).toEqual([expect.objectContaining({ state: 'failed', retryable: false, attempts: 3 })]);
    expect(sms.sent).toEqual([]);
  });

  it('subscribes a new email address once and reports it pending until the person confirms', async () => {
    const { deps, topic, ledger } = setup();
    await notifyRequestFinished(deps, finished('succeeded', { id: 'req_1', notify: { email: EMAIL } }));
    expect(await ledger.listForRequest('req_1')).toEqual([expect.objectContaining({ channel: 'email', state: 'pending_confirmation' })]);
    expect(topic.published).toEqual([]);

    topic.confirm(EMAIL);
    await notifyRequestFinished(deps, finished('succeeded', { id: 'req_2', notify: { email: EMAIL } }));

    expect(topic.subscriptionCount).toBe(1);
    expect(await ledger.listForRequest('req_2')).toEqual([expect.objectContaining({ channel: 'email', state: 'sent' })]);
    expect(topic.published).toEqual([expect.objectContaining({ to: EMAIL, event: 'request.succeeded' })]);
  });

  it('subscribes an address again after the person unsubscribed', async () => {
    const { deps, topic } = setup();
    await notifyRequestFinished(deps, finished('succeeded', { id: 'req_1', notify: { email: EMAIL } }));
    topic.unsubscribe(EMAIL);

    await notifyRequestFinished(deps, finished('succeeded', { id: 'req_2', notify: { email: EMAIL } }));

    expect(topic.subscriptionCount).toBe(1);
  });

  it('tells operations contacts about a failed request only when they asked for it', async () => {
    const { deps, topic } = setup();
    await setOperationsContacts(deps, 'mer_a', { email: 'ops@a.example', events: ['request.failed'] });
    await setOperationsContacts(deps, 'mer_b', { email: 'ops@b.example', events: [] });
    topic.confirm('ops@a.example');
    topic.confirm('ops@b.example');

    await notifyRequestFinished(deps, finished('failed', { id: 'req_a', merchantId: 'mer_a' }));
    await notifyRequestFinished(deps, finished('failed', { id: 'req_b', merchantId: 'mer_b' }));
    await notifyRequestFinished(deps, finished('succeeded', { id: 'req_c', merchantId: 'mer_a' }));

    expect(topic.published.map((message) => `${message.to} ${message.event}`)).toEqual(['ops@a.example request.failed']);
  });
});

describe('notifyEndpointDisabled', () => {
  const notice = { merchantId: 'mer_a', endpointId: 'ep_1', url: 'https://hooks.example.com/x', reason: '410 Gone', disabledAt: NOW.toISOString() };

  it('tells the operations contacts once per disabling, whatever events they chose', async () => {
    const { deps, topic } = setup();
    await setOperationsContacts(deps, 'mer_a', { email: 'ops@a.example', sms: PHONE, events: [] });
    topic.confirm('ops@a.example');
    topic.confirm(PHONE);

    await notifyEndpointDisabled(deps, notice);
    await notifyEndpointDisabled(deps, notice);
    await notifyEndpointDisabled(deps, { ...notice, disabledAt: '2026-03-11T12:00:00.000Z' });

    expect(topic.published.map((message) => `${message.channel} ${message.event}`)).toEqual([
      'email webhook.endpoint_disabled',
      'sms webhook.endpoint_disabled',
      'email webhook.endpoint_disabled',
      'sms webhook.endpoint_disabled',
    ]);
  });

  it('sends nothing and says so when the merchant has no operations contacts', async () => {
    const { deps, topic, logged } = setup();
    await notifyEndpointDisabled(deps, notice);
    expect(topic.published).toEqual([]);
    expect(logged).toEqual(['No operations contacts to tell about a disabled endpoint']);
  });
});

describe('setOperationsContacts', () => {
  it('keeps the subscription when only the events change, and replaces it when the address changes', async () => {
    const { deps, topic, contacts } = setup();
    await setOperationsContacts(deps, 'mer_a', { email: 'ops@a.example', events: [] });
    const first = (await contacts.get('mer_a'))!.subscriptions.email!;

    const changedEvents = await setOperationsContacts(deps, 'mer_a', { email: 'ops@a.example', events: ['request.failed'] });
    expect((await contacts.get('mer_a'))!.subscriptions.email).toBe(first);
    expect(changedEvents.events).toEqual(['request.failed', 'webhook.endpoint_disabled']);
    expect(topic.operationsOf(first)?.get('mer_a')).toEqual(['request.failed', 'webhook.endpoint_disabled']);

    await setOperationsContacts(deps, 'mer_a', { email: 'oncall@a.example', events: [] });
    expect(topic.operationsOf(first)).toBeUndefined();
    expect(topic.subscriptionCount).toBe(1);
  });

  it('keeps a subscription two merchants share until neither uses it', async () => {
    const { deps, topic, contacts } = setup();
    await setOperationsContacts(deps, 'mer_a', { email: 'shared@ops.example', events: [] });
    await setOperationsContacts(deps, 'mer_b', { email: 'shared@ops.example', events: [] });
    const shared = (await contacts.get('mer_a'))!.subscriptions.email!;

    await setOperationsContacts(deps, 'mer_a', { events: [] });
    expect([...(topic.operationsOf(shared)?.keys() ?? [])]).toEqual(['mer_b']);

    await setOperationsContacts(deps, 'mer_b', { events: [] });
    expect(topic.subscriptionCount).toBe(0);
  });

  it('reports each address pending until its owner confirms it', async () => {
    const { deps, topic } = setup();
    expect((await setOperationsContacts(deps, 'mer_a', { email: 'ops@a.example', events: [] })).subscriptions).toEqual({ email: 'pending_confirmation' });
    topic.confirm('ops@a.example');
    expect((await setOperationsContacts(deps, 'mer_a', { email: 'ops@a.example', events: [] })).subscriptions).toEqual({ email: 'confirmed' });
  });
});
