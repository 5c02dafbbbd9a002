// The local console's page script: no framework, no build step, nothing fetched from elsewhere.
// It renders the snapshots the runtime streams (server-sent events) and posts the console's
// actions; every text it shows goes through textContent, since payloads and receivers' answers
// are not ours to trust.
'use strict';

const STATUSES = ['accepted', 'processing', 'succeeded', 'failed', 'cancelled'];
// This run's token, which the runtime wrote into the page: it accepts no action without it (or this page's own Origin).
const CONSOLE_TOKEN = document.querySelector('meta[name="herald-console-token"]').content;
const state = {
  snapshot: undefined,
  filter: 'all',
  // The cursors of the pages before the one shown: [undefined] is the first page.
  cursors: [undefined],
  page: undefined,
  expanded: new Map(),
  found: undefined,
  // Results kept next to what they acted on until dismissed, by `delivery:<id>`, `endpoint:<id>`, `queue:<name>`.
  rowMessages: new Map(),
  openRounds: new Set(),
  confirmRedrive: undefined,
};

/** Builds an element: el('td', { className: 'x' }, 'text', child, …). */
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props || {});
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function badge(text, kind = text) {
  return el('span', { className: `badge ${kind}`, textContent: text });
}

function button(text, action, onClick, extra = {}) {
  const node = el('button', { type: 'button', textContent: text, ...extra });
  node.dataset.action = action;
  node.addEventListener('click', onClick);
  return node;
}

const time = (iso) => (iso ? new Date(iso).toLocaleTimeString(undefined, { hour12: false }) + '.' + iso.slice(20, 23) : '');

/** Calls one of the console's routes; the answer is always read, a problem's detail included. */
async function send(method, path, body) {
  const headers = { 'x-herald-console-token': CONSOLE_TOKEN };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const answer = await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, body: answer };
}

function problemText(answer) {
  const body = answer.body || {};
  const fields = (body.errors || []).map((e) => `${e.path}: ${e.message}`).join('; ');
  return `${body.title || 'Failed'} (${answer.status}): ${body.detail || body.message || 'no detail'}${fields ? ` — ${fields}` : ''}`;
}

/** Shows an action's result at the top, and next to its row when it has one, until dismissed. */
function report(text, ok, rowKey) {
  const item = el('li', { className: ok ? 'ok' : 'bad' }, el('span', { className: 'text' }, text));
  item.append(
    button('dismiss', 'dismiss', () => {
      item.remove();
      if (rowKey && state.rowMessages.get(rowKey)?.item === item) state.rowMessages.delete(rowKey);
      render();
    }),
  );
  document.getElementById('results').prepend(item);
  if (rowKey) state.rowMessages.set(rowKey, { text, ok, item });
  render();
}

function rowMessage(rowKey) {
  const message = state.rowMessages.get(rowKey);
  if (!message) return null;
  const node = el(
    'div',
    { className: `row-message ${message.ok ? 'ok' : 'bad'}` },
    el('span', {}, message.text),
    button('×', 'dismiss-row', () => {
      message.item.remove();
      state.rowMessages.delete(rowKey);
      render();
    }, { title: 'dismiss' }),
  );
  node.dataset.rowMessage = rowKey;
  return node;
}

/** Runs an action from a button, and reports what the runtime answered. */
async function act(node, rowKey, method, path, body, describe) {
  node.disabled = true;
  try {
    const answer = await send(method, path, body);
    report(answer.ok ? describe(answer.body) : problemText(answer), answer.ok, rowKey);
    return answer;
  } catch (error) {
    report(`Not sent: ${error.message}`, false, rowKey);
    return undefined;
  } finally {
    node.disabled = false;
    void refreshPage();
  }
}

function renderFilter() {
  const nav = document.getElementById('status-filter');
  nav.replaceChildren(
    ...['all', ...STATUSES].map((status) => {
      const node = button(status, 'filter', () => {
        state.filter = status;
        state.cursors = [undefined];
        void refreshPage();
      });
      node.setAttribute('aria-pressed', String(state.filter === status));
      node.dataset.status = status;
      return node;
    }),
  );
}

function historyTable(history) {
  return el(
    'table',
    { className: 'fixed' },
    el('colgroup', {}, el('col', { style: 'width: 110px' }), el('col'), el('col', { style: 'width: 76px' }), el('col')),
    el('thead', {}, el('tr', {}, el('th', {}, 'at'), el('th', {}, 'transition'), el('th', {}, 'attempt'), el('th', {}, 'reason'))),
    el(
      'tbody',
      {},
      ...history.map((h) =>
        el(
          'tr',
          { className: 'history-row' },
          el('td', {}, time(h.at)),
          el('td', {}, h.step ? `step ${h.step}` : `${h.from ?? '—'} → ${h.to}`),
          el('td', {}, h.attempt),
          el('td', {}, h.reason ?? ''),
        ),
      ),
    ),
  );
}

/**
 * A delivery's attempts split into rounds: every retry, recover or redrive starts a round whose
 * attempts count from #1 again, so a number that does not grow marks a new round.
 */
function roundsOf(attempts) {
  const rounds = [];
  let previous = Infinity;
  for (const attempt of attempts) {
    if (!(attempt.attempt > previous)) rounds.push([]);
    rounds[rounds.length - 1].push(attempt);
    previous = attempt.attempt;
  }
  return rounds;
}

function attemptOutcome(a) {
  return badge(a.status !== undefined ? `HTTP ${a.status}` : a.error || 'no answer', a.status >= 200 && a.status < 300 ? 'delivered' : 'failed');
}

function attemptsCell(delivery) {
  const rounds = roundsOf(delivery.attempts || []);
  if (!rounds.length) return el('span', { className: 'muted' }, 'none yet');
  return el(
    'div',
    {},
    ...rounds.map((attempts, index) => {
      const round = index + 1;
      const key = `${delivery.id}:${round}`;
      const open = state.openRounds.has(key);
      const last = attempts[attempts.length - 1];
      const toggle = button(`round ${round}: ${attempts.length} attempt${attempts.length === 1 ? '' : 's'}`, 'round', () => {
        if (open) state.openRounds.delete(key);
        else state.openRounds.add(key);
        render();
      }, { className: 'round' });
      toggle.setAttribute('aria-expanded', String(open));
      const block = el(
        'div',
        { className: 'round-block' },
        toggle,
        ' ',
        attemptOutcome(last),
        open
          ? el(
              'ul',
              { className: 'rows round-attempts' },
              ...attempts.map((a) =>
                el(
                  'li',
                  { className: 'attempt' },
                  `round ${round} #${a.attempt} ${time(a.at)} `,
                  attemptOutcome(a),
                  ` ${a.latencyMs} ms`,
                  a.responseBody ? el('div', { className: 'excerpt' }, a.responseBody) : a.errorMessage ? el('div', { className: 'excerpt' }, a.errorMessage) : null,
                ),
              ),
            )
          : null,
      );
      block.dataset.round = String(round);
      return block;
    }),
  );
}

function deliveryRow(delivery) {
  const retry = button('retry', 'retry', () =>
    act(retry, `delivery:${delivery.id}`, 'POST', `/local/console/deliveries/${encodeURIComponent(delivery.id)}/retry`, undefined, (d) => `Retry of ${delivery.id}: sent again as a new round (now ${d.state})`),
  );
  const row = el(
    'tr',
    {},
    el('td', {}, el('code', {}, delivery.requestId || delivery.id), el('div', { className: 'muted' }, delivery.endpointId === 'callback' ? `${delivery.eventType} · callback` : delivery.eventType), rowMessage(`delivery:${delivery.id}`)),
    el('td', {}, badge(delivery.state)),
    el('td', {}, attemptsCell(delivery)),
    el('td', {}, retry),
  );
  row.dataset.deliveryId = delivery.id;
  return row;
}

function deliveriesTable(deliveries) {
  return el(
    'table',
    { className: 'fixed deliveries' },
    el('colgroup', {}, el('col'), el('col', { style: 'width: 100px' }), el('col', { style: 'width: 40%' }), el('col', { style: 'width: 80px' })),
    el('thead', {}, el('tr', {}, el('th', {}, 'request / event'), el('th', {}, 'state'), el('th', {}, 'attempts'), el('th', {}))),
    el('tbody', {}, ...deliveries.map(deliveryRow)),
  );
}

function requestDetail(id, view) {
  if (!view) return el('div', { className: 'detail muted' }, 'loading…');
  const notify = Object.entries(view.notify || {});
  return el(
    'div',
    { className: 'detail' },
    el('p', {}, `attempts ${view.attempts} · created ${time(view.createdAt)} · updated ${time(view.updatedAt)}`),
    el('p', { className: 'idempotency-key' }, 'idempotency key ', el('code', {}, view.idempotencyKey ?? '—')),
    el('p', { className: 'notify-targets' }, 'notify ', notify.length ? notify.map(([channel, to]) => `${channel} ${to}`).join(' · ') : el('span', { className: 'muted' }, 'nobody')),
    el('h4', {}, 'Payload'),
    el('pre', { className: 'payload' }, view.payload === undefined ? '(no longer stored)' : JSON.stringify(view.payload, null, 2)),
    view.orderingKey !== undefined ? el('p', {}, 'ordering key ', el('code', {}, view.orderingKey)) : null,
    view.error ? el('p', {}, badge('error', 'failed'), ` ${view.error.code}: ${view.error.message}`) : null,
    view.result !== undefined ? el('div', {}, el('h4', {}, 'Result'), el('pre', {}, JSON.stringify(view.result, null, 2))) : null,
    view.callback ? el('p', {}, 'callback ', el('code', {}, view.callback.url), ` · ${view.callback.events.join(', ')}`) : null,
    el('h4', {}, 'History'),
    historyTable(view.history || []),
    (view.notifications || []).length
      ? el('div', {}, el('h4', {}, 'Notifications'), el('ul', { className: 'rows' }, ...view.notifications.map((n) => el('li', {}, `${n.channel} → ${n.to}: ${n.state ?? n.status ?? ''}`))))
      : null,
    (view.deliveryLog || []).length ? el('div', {}, el('h4', {}, 'Deliveries'), deliveriesTable(view.deliveryLog)) : null,
  );
}

async function loadDetail(id) {
  const response = await fetch(`/local/console/requests/${encodeURIComponent(id)}`);
  if (!response.ok) return;
  const entry = state.expanded.get(id);
  if (!entry) return;
  entry.view = await response.json();
  render();
}

function requestItem(request) {
  const open = state.expanded.has(request.id);
  const summary = el(
    'button',
    { type: 'button', className: 'summary' },
    badge(request.status),
    el('code', {}, request.id),
    el('span', {}, request.type),
    el('span', { className: 'muted' }, `${request.attempts} attempt${request.attempts === 1 ? '' : 's'} · ${time(request.updatedAt)}`),
  );
  summary.setAttribute('aria-expanded', String(open));
  summary.addEventListener('click', () => {
    if (state.expanded.has(request.id)) state.expanded.delete(request.id);
    else {
      state.expanded.set(request.id, { updatedAt: request.updatedAt });
      void loadDetail(request.id);
    }
    render();
  });
  const item = el('li', {}, summary, open ? requestDetail(request.id, state.expanded.get(request.id).view) : null);
  item.dataset.requestId = request.id;
  item.dataset.status = request.status;
  return item;
}

function renderRequests() {
  const requests = state.page ? state.page.items : [];
  document.getElementById('requests-empty').hidden = requests.length > 0;
  document.getElementById('requests').replaceChildren(...requests.map(requestItem));
  document.getElementById('page-number').textContent = `page ${state.cursors.length}`;
  document.getElementById('newer').disabled = state.cursors.length === 1;
  document.getElementById('older').disabled = !state.page?.nextCursor;
}

function renderFound() {
  const found = document.getElementById('found');
  if (!state.found) return found.replaceChildren();
  const close = button('close', 'close-found', () => {
    state.found = undefined;
    render();
  });
  if (state.found.problem) return found.replaceChildren(el('p', { className: 'bad' }, state.found.problem, ' ', close));
  const view = state.found.view;
  const item = el('div', { className: 'found' }, el('p', {}, badge(view.status), ' ', el('code', {}, view.id), ` ${view.type} `, close), requestDetail(view.id, view));
  item.dataset.foundId = view.id;
  found.replaceChildren(item);
}

const onLivePage = () => state.filter === 'all' && state.cursors.length === 1;
let pageReads = 0;

/** Reads the page shown again: the first page of all requests comes with each snapshot, any other is read here. */
async function refreshPage() {
  const read = ++pageReads;
  if (onLivePage()) {
    if (state.snapshot) showPage(state.snapshot.requests);
    return;
  }
  const params = new URLSearchParams();
  if (state.filter !== 'all') params.set('status', state.filter);
  const cursor = state.cursors[state.cursors.length - 1];
  if (cursor) params.set('cursor', cursor);
  const response = await fetch(`/local/console/requests?${params}`);
  // A later read (another page, another filter) has begun meanwhile: its answer is the one to show.
  if (!response.ok || read !== pageReads) return;
  showPage(await response.json());
}

function showPage(page) {
  state.page = page;
  // An open request that changed is read again, so its history follows it live too.
  for (const request of page.items) {
    const open = state.expanded.get(request.id);
    if (open && open.updatedAt !== request.updatedAt) {
      open.updatedAt = request.updatedAt;
      void loadDetail(request.id);
    }
  }
  render();
}

function renderQueues(queues) {
  document.getElementById('queues').replaceChildren(
    ...queues.map((queue) => {
      const key = `queue:${queue.queue}`;
      const redrive = button('redrive', 'redrive', () => {
        state.confirmRedrive = queue.queue;
        render();
      }, { disabled: !queue.deadLetters });
      const confirming = state.confirmRedrive === queue.queue;
      const confirmation = confirming
        ? el(
            'div',
            { className: 'confirm' },
            `Move the ${queue.deadLetters ?? 0} dead-lettered message${queue.deadLetters === 1 ? '' : 's'} of ${queue.queue} back to its queue?`,
            button('confirm redrive', 'confirm-redrive', (event) => {
              state.confirmRedrive = undefined;
              void act(event.currentTarget, key, 'POST', `/local/console/redrive/${encodeURIComponent(queue.queue)}`, undefined, (r) =>
                `Redrive of ${queue.queue}: ${r.moved} moved, ${r.failed} refused${r.cameBack ? `, ${r.cameBack} came back` : ''}`,
              );
            }, { className: 'danger' }),
            button('cancel', 'cancel-redrive', () => {
              state.confirmRedrive = undefined;
              render();
            }),
          )
        : null;
      const row = el(
        'tr',
        {},
        el('td', {}, queue.queue, confirmation, rowMessage(key)),
        el('td', {}, queue.depth),
        el('td', { className: 'dead-letters' }, queue.deadLetters ?? '—'),
        el('td', { className: 'slow-lane' }, queue.slowLane ?? '—'),
        el('td', {}, redrive),
      );
      row.dataset.queue = queue.queue;
      return row;
    }),
  );
}

function endpointActions(endpoint) {
  const key = `endpoint:${endpoint.id}`;
  const path = `/local/console/webhooks/${encodeURIComponent(endpoint.id)}`;
  const test = button('send test', 'test', () =>
    act(test, key, 'POST', `${path}/test`, undefined, (r) =>
      r.succeeded
        ? `Test event ${r.eventId} delivered to ${endpoint.url} (HTTP ${r.attempt.status}, ${r.attempt.latencyMs} ms)`
        : `Test event ${r.eventId} not accepted by ${endpoint.url}: ${r.attempt.status !== undefined ? `HTTP ${r.attempt.status}` : r.attempt.error || 'no answer'}`,
    ),
  );
  const toggle = endpoint.disabled
    ? button('enable', 'enable', () => act(toggle, key, 'POST', `${path}/enable`, undefined, () => `Endpoint ${endpoint.id} enabled, with a fresh failure count`))
    : button('disable', 'disable', () => act(toggle, key, 'POST', `${path}/disable`, undefined, () => `Endpoint ${endpoint.id} disabled: its events wait until it is enabled`));
  const rotate = button('rotate secret', 'rotate', () =>
    act(rotate, key, 'POST', `${path}/rotate`, undefined, (r) =>
      `New signing ${r.secret ? `secret ${r.secret}` : `public key ${r.publicKey?.kid ?? ''}`} for ${endpoint.id}; the previous one signs too until ${r.previousSecretExpiresAt}`,
    ),
  );
  const recover = button('recover', 'recover', () =>
    act(recover, key, 'POST', `${path}/recover`, undefined, (r) =>
      `Recover: ${r.recovered} failed deliver${r.recovered === 1 ? 'y' : 'ies'} of the last 14 days sent again` +
      (r.stoppedEarly ? ' (more remain: recover again)' : '') +
      (endpoint.disabled ? '. The endpoint is disabled: they wait until it is enabled' : ''),
    ),
  );
  recover.title = 'Send again every delivery that failed in the last 14 days';
  return el('div', { className: 'actions' }, test, toggle, rotate, recover);
}

/**
 * What an endpoint was registered with beyond its URL, so an operator sees at a glance why it got
 * fewer events (a filter), no payload (thin), slower deliveries (a rate) or an ed25519 signature.
 */
function endpointSettings(endpoint) {
  const settings = [endpoint.eventTypes?.length ? `events ${endpoint.eventTypes.join(', ')}` : 'every event', `payload ${endpoint.payloadMode}`, `signature ${endpoint.signatureScheme}`];
  if (endpoint.rateLimitPerSecond) settings.push(`at most ${endpoint.rateLimitPerSecond} a second`);
  if (endpoint.filter) settings.push(`filter ${JSON.stringify(endpoint.filter)}`);
  return el('p', { className: 'muted settings' }, settings.join(' · '));
}

function renderEndpoints(endpoints) {
  document.getElementById('endpoints-empty').hidden = endpoints.length > 0;
  document.getElementById('endpoints').replaceChildren(
    ...endpoints.map((endpoint) => {
      const block = el(
        'div',
        { className: 'endpoint' },
        el('h3', {}, endpoint.disabled ? badge('disabled') : badge('enabled', 'succeeded'), el('code', {}, endpoint.url), el('code', { className: 'muted' }, endpoint.id)),
        endpoint.description ? el('p', { className: 'muted' }, endpoint.description) : null,
        endpointSettings(endpoint),
        endpoint.disabledReason ? el('p', { className: 'muted' }, endpoint.disabledReason) : null,
        endpointActions(endpoint),
        rowMessage(`endpoint:${endpoint.id}`),
        endpoint.deliveries.length ? deliveriesTable(endpoint.deliveries) : el('p', { className: 'muted' }, 'No deliveries yet.'),
      );
      block.dataset.endpointId = endpoint.id;
      return block;
    }),
  );
}

function renderOutbox(outbox) {
  document.getElementById('outbox-empty').hidden = outbox.length > 0;
  document.getElementById('outbox').replaceChildren(
    ...outbox.map((message) => {
      const item = el(
        'li',
        {},
        badge(message.channel, 'accepted'),
        message.via ? ` ${message.via}` : '',
        ` ${time(message.at)} → `,
        el('code', {}, message.to),
        ' ',
        message.subject ? el('strong', {}, message.subject) : null,
        el('div', { className: 'excerpt' }, message.text),
      );
      item.dataset.channel = message.channel;
      return item;
    }),
  );
}

function render() {
  const snapshot = state.snapshot;
  if (!snapshot) return;
  document.getElementById('merchant').textContent = snapshot.merchantId;
  renderFilter();
  renderRequests();
  renderFound();
  renderQueues(snapshot.queues);
  renderEndpoints(snapshot.endpoints);
  renderOutbox(snapshot.outbox);
}

function formValues(form) {
  return Object.fromEntries([...new FormData(form).entries()].map(([name, value]) => [name, String(value).trim()]));
}

function wireForms() {
  document.getElementById('newer').addEventListener('click', () => {
    if (state.cursors.length > 1) state.cursors.pop();
    void refreshPage();
  });
  document.getElementById('older').addEventListener('click', () => {
    if (state.page?.nextCursor) state.cursors.push(state.page.nextCursor);
    void refreshPage();
  });

  document.getElementById('search').addEventListener('submit', async (event) => {
    event.preventDefault();
    const id = formValues(event.currentTarget).id;
    const answer = await fetch(`/local/console/requests/${encodeURIComponent(id)}`);
    const body = await answer.json().catch(() => ({}));
    state.found = answer.ok ? { view: body } : { problem: problemText({ status: answer.status, body }) };
    render();
  });

  const submitForm = document.getElementById('submit-form');
  const freshKey = () => (submitForm.elements.idempotencyKey.value = `console-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`);
  freshKey();
  submitForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = formValues(submitForm);
    let payload;
    try {
      payload = values.payload ? JSON.parse(values.payload) : {};
    } catch (error) {
      report(`Not submitted: the payload is not JSON (${error.message})`, false);
      return;
    }
    const notify = {};
    if (values.email) notify.email = values.email;
    if (values.sms) notify.sms = values.sms;
    const body = { type: values.type, payload, idempotencyKey: values.idempotencyKey };
    if (Object.keys(notify).length) body.notify = notify;
    if (values.notBefore) body.notBefore = values.notBefore;
    const answer = await act(submitForm.querySelector('button[type="submit"]'), undefined, 'POST', '/local/console/requests', body, (r) =>
      `Request ${r.id} ${r.status ?? 'accepted'} (${values.type}, key ${values.idempotencyKey})`,
    );
    if (answer?.ok) freshKey();
  });

  const registerForm = document.getElementById('register-form');
  registerForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = formValues(registerForm);
    const body = { url: values.url };
    if (values.description) body.description = values.description;
    const answer = await act(registerForm.querySelector('button[type="submit"]'), undefined, 'POST', '/local/console/webhooks', body, (r) =>
      `Registered ${r.id} for ${r.url}; its signing ${r.secret ? `secret, shown only now: ${r.secret}` : 'public key is in its answer'}`,
    );
    if (answer?.ok) registerForm.reset();
  });
}

function connect() {
  const connection = document.getElementById('connection');
  const source = new EventSource('/local/console/stream');
  source.addEventListener('open', () => (connection.textContent = 'live'));
  source.addEventListener('error', () => (connection.textContent = 'reconnecting…'));
  source.addEventListener('trouble', (event) => (connection.textContent = `trouble: ${JSON.parse(event.data).message}`));
  source.addEventListener('snapshot', (event) => {
    state.snapshot = JSON.parse(event.data);
    connection.textContent = 'live';
    // Something changed: the page of requests shown is read again with it.
    void refreshPage();
    render();
  });
}

wireForms();
connect();
