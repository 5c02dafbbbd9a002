// The local console's page script: no framework, no build step, nothing fetched from elsewhere.
// It renders the snapshots the runtime streams (server-sent events) and posts the console's
// actions; every text it shows goes through textContent, since payloads and receivers' answers
// are not ours to trust.
'use strict';

const STATUSES = ['accepted', 'processing', 'succeeded', 'failed', 'cancelled'];
// This run's token, which the runtime wrote into the page: it accepts no action without it (or this page's own Origin).
const CONSOLE_TOKEN = document.querySelector('meta[name="herald-console-token"]').content;
const state = { snapshot: undefined, filter: 'all', expanded: new Map() };

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

const time = (iso) => (iso ? new Date(iso).toLocaleTimeString(undefined, { hour12: false }) + '.' + iso.slice(20, 23) : '');

async function post(path, button) {
  button.disabled = true;
  try {
    const response = await fetch(path, { method: 'POST', headers: { 'x-herald-console-token': CONSOLE_TOKEN } });
    const body = await response.json().catch(() => ({}));
    button.title = response.ok ? 'done' : body.detail || body.message || `failed (${response.status})`;
  } finally {
    button.disabled = false;
  }
}

function renderFilter(requests) {
  const nav = document.getElementById('status-filter');
  const counts = Object.fromEntries(STATUSES.map((s) => [s, requests.filter((r) => r.status === s).length]));
  nav.replaceChildren(
    ...['all', ...STATUSES].map((status) => {
      const count = status === 'all' ? requests.length : counts[status];
      const button = el('button', { type: 'button', textContent: `${status} ${count}` });
      button.setAttribute('aria-pressed', String(state.filter === status));
      button.dataset.status = status;
      button.addEventListener('click', () => {
        state.filter = status;
        render();
      });
      return button;
    }),
  );
}

function historyTable(history) {
  return el(
    'table',
    {},
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

function attemptsList(attempts) {
  return el(
    'ul',
    { className: 'rows' },
    ...attempts.map((a) =>
      el(
        'li',
        {},
        `#${a.attempt} ${time(a.at)} `,
        badge(a.status !== undefined ? `HTTP ${a.status}` : a.error || 'no answer', a.status >= 200 && a.status < 300 ? 'delivered' : 'failed'),
        ` ${a.latencyMs} ms `,
        a.responseBody ? el('div', { className: 'excerpt' }, a.responseBody) : a.errorMessage ? el('div', { className: 'excerpt' }, a.errorMessage) : null,
      ),
    ),
  );
}

function deliveryRow(delivery) {
  const retry = el('button', { type: 'button', textContent: 'retry' });
  retry.dataset.action = 'retry';
  retry.addEventListener('click', () => post(`/local/console/deliveries/${encodeURIComponent(delivery.id)}/retry`, retry));
  const row = el(
    'tr',
    {},
    el('td', {}, el('code', {}, delivery.requestId || delivery.id), el('div', { className: 'muted' }, delivery.eventType)),
    el('td', {}, badge(delivery.state)),
    el('td', {}, attemptsList(delivery.attempts || [])),
    el('td', {}, retry),
  );
  row.dataset.deliveryId = delivery.id;
  return row;
}

function requestDetail(id) {
  const detail = state.expanded.get(id);
  if (!detail || !detail.view) return el('div', { className: 'detail muted' }, 'loading…');
  const view = detail.view;
  return el(
    'div',
    { className: 'detail' },
    el('p', {}, `attempts ${view.attempts} · created ${time(view.createdAt)} · updated ${time(view.updatedAt)}`),
    view.orderingKey !== undefined ? el('p', {}, 'ordering key ', el('code', {}, view.orderingKey)) : null,
    view.error ? el('p', {}, badge('error', 'failed'), ` ${view.error.code}: ${view.error.message}`) : null,
    view.result !== undefined ? el('p', {}, 'result ', el('code', {}, JSON.stringify(view.result))) : null,
    el('h4', {}, 'History'),
    historyTable(view.history || []),
    (view.notifications || []).length
      ? el('div', {}, el('h4', {}, 'Notifications'), el('ul', { className: 'rows' }, ...view.notifications.map((n) => el('li', {}, `${n.channel} → ${n.to}: ${n.state ?? n.status ?? ''}`))))
      : null,
    (view.deliveryLog || []).length
      ? el('div', {}, el('h4', {}, 'Deliveries'), el('table', {}, el('tbody', {}, ...view.deliveryLog.map(deliveryRow))))
      : null,
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

function renderRequests(requests) {
  const shown = state.filter === 'all' ? requests : requests.filter((r) => r.status === state.filter);
  document.getElementById('requests-empty').hidden = requests.length > 0;
  document.getElementById('requests').replaceChildren(
    ...shown.map((request) => {
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
      const item = el('li', {}, summary, open ? requestDetail(request.id) : null);
      item.dataset.requestId = request.id;
      item.dataset.status = request.status;
      return item;
    }),
  );
}

function renderQueues(queues) {
  document.getElementById('queues').replaceChildren(
    ...queues.map((queue) => {
      const redrive = el('button', { type: 'button', textContent: 'redrive', disabled: !queue.deadLetters });
      redrive.dataset.action = 'redrive';
      redrive.addEventListener('click', () => post(`/local/console/redrive/${encodeURIComponent(queue.queue)}`, redrive));
      const row = el('tr', {}, el('td', {}, queue.queue), el('td', {}, queue.depth), el('td', { className: 'dead-letters' }, queue.deadLetters ?? '—'), el('td', {}, redrive));
      row.dataset.queue = queue.queue;
      return row;
    }),
  );
}

function renderEndpoints(endpoints) {
  document.getElementById('endpoints-empty').hidden = endpoints.length > 0;
  document.getElementById('endpoints').replaceChildren(
    ...endpoints.map((endpoint) => {
      const recover = el('button', { type: 'button', textContent: 'recover' });
      recover.dataset.action = 'recover';
      recover.title = 'Send again every delivery that failed in the last 14 days';
      recover.addEventListener('click', () => post(`/local/console/webhooks/${encodeURIComponent(endpoint.id)}/recover`, recover));
      const block = el(
        'div',
        { className: 'endpoint' },
        el('h3', {}, endpoint.disabled ? badge('disabled') : badge('enabled', 'succeeded'), el('code', {}, endpoint.url), recover),
        endpoint.disabledReason ? el('p', { className: 'muted' }, endpoint.disabledReason) : null,
        endpoint.deliveries.length
          ? el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'request'), el('th', {}, 'state'), el('th', {}, 'attempts'), el('th', {}))), el('tbody', {}, ...endpoint.deliveries.map(deliveryRow)))
          : el('p', { className: 'muted' }, 'No deliveries yet.'),
      );
      block.dataset.endpointId = endpoint.id;
      return block;
    }),
  );
}

function renderOutbox(outbox) {
  document.getElementById('outbox-empty').hidden = outbox.length > 0;
  document.getElementById('outbox').replaceChildren(
    ...outbox.map((message) =>
      el('li', {}, badge(message.channel, 'accepted'), ` ${time(message.at)} → ${message.to} `, message.subject ? el('strong', {}, message.subject) : null, el('div', { className: 'excerpt' }, message.text)),
    ),
  );
}

function render() {
  const snapshot = state.snapshot;
  if (!snapshot) return;
  document.getElementById('merchant').textContent = snapshot.merchantId;
  renderFilter(snapshot.requests);
  renderRequests(snapshot.requests);
  renderQueues(snapshot.queues);
  renderEndpoints(snapshot.endpoints);
  renderOutbox(snapshot.outbox);
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
    // An open request that changed is read again, so its history follows it live too.
    for (const request of state.snapshot.requests) {
      const open = state.expanded.get(request.id);
      if (open && open.updatedAt !== request.updatedAt) {
        open.updatedAt = request.updatedAt;
        void loadDetail(request.id);
      }
    }
    render();
  });
}

connect();
