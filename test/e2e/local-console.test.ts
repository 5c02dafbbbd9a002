import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { LocalRuntime } from '../../lib/local/runtime';
import { launchBrowser } from '../support/browser';
import { apiClient, startTestRuntime } from '../support/local-runtime';
import { startReceiver, type WebhookReceiver } from '../support/webhook-receiver';

const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');
let runtime: LocalRuntime;
let browser: Browser;
let receiver: WebhookReceiver;
let page: Page;

beforeAll(async () => {
  [runtime, browser, receiver] = await Promise.all([startTestRuntime('console'), launchBrowser(), startReceiver()]);
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await receiver?.close();
  await runtime?.stop();
});

async function submit(type: string, payload: Record<string, unknown>, key: string): Promise<string> {
  const submitted = await apiClient(runtime)('POST', '/v1/requests', { body: { type, payload }, headers: { 'idempotency-key': key } });
  expect(submitted.status).toBe(202);
  return submitted.body!.id as string;
}

/**
 * Records in the page the statuses a request's row shows, in order, as the DOM changes. Written
 * as page script text: it runs in the browser, whose DOM types this Node project does not load.
 */
async function recordStatuses(id: string): Promise<void> {
  await page.evaluate(`(() => {
    const id = ${JSON.stringify(id)};
    const seen = (window.seenStatuses = window.seenStatuses || {})[id] = [];
    const look = () => {
      const status = document.querySelector('li[data-request-id="' + id + '"]')?.getAttribute('data-status');
      if (status && seen[seen.length - 1] !== status) seen.push(status);
    };
    new MutationObserver(look).observe(document.getElementById('requests'), { childList: true, subtree: true, attributes: true });
  })()`);
}

const statusesSeen = async (id: string): Promise<string[]> =>
  ((await page.evaluate(`(window.seenStatuses || {})[${JSON.stringify(id)}]`)) as string[] | undefined) ?? [];

describe('the local console at /', () => {
  it('shows a request go accepted → processing → succeeded live, without a reload', async () => {
    expect((await apiClient(runtime)('POST', '/v1/webhooks', { body: { url: receiver.url } })).status).toBe(201);
    let loads = 0;
    page.on('load', () => loads++);
    await page.goto(`${runtime.url}/`);
    await page.waitForSelector('#connection:text("live")');

    const id = await submit('demo.sleep', { ms: 2_000 }, 'console-1');
    await recordStatuses(id);
    await page.waitForSelector(`li[data-request-id="${id}"][data-status="processing"]`, { timeout: 20_000 });
    await page.click(`li[data-request-id="${id}"] button.summary`);
    await page.waitForSelector(`li[data-request-id="${id}"][data-status="succeeded"]`, { timeout: 20_000 });

    // The open request's history follows it too: every transition, in order.
    await page.waitForSelector(`li[data-request-id="${id}"] .history-row:has-text("processing → succeeded")`);
    const history = await page.locator(`li[data-request-id="${id}"] .history-row td:nth-child(2)`).allTextContents();
    expect(history).toEqual(['— → accepted', 'accepted → processing', 'processing → succeeded']);
    const seen = await statusesSeen(id);
    expect(seen).toEqual(expect.arrayContaining(['processing', 'succeeded']));
    expect(seen.indexOf('processing')).toBeLessThan(seen.indexOf('succeeded'));
    // Its webhook was delivered, with the attempt shown under the endpoint.
    await page.waitForSelector(`[data-endpoint-id] [data-delivery-id*="${id}"] .badge.succeeded`, { timeout: 20_000 });
    expect(loads).toBe(1);
  });

  it('shows a demo.fail dead-lettered, and reopens it when redrive is clicked', async () => {
    const id = await submit('demo.fail', {}, 'console-2');
    await page.waitForSelector(`li[data-request-id="${id}"][data-status="failed"]`, { timeout: 30_000 });
    await page.waitForSelector('tr[data-queue="requests"] .dead-letters:text-is("1")', { timeout: 30_000 });
    await page.click(`li[data-request-id="${id}"] button.summary`);

    // Redrive asks first, and moves nothing until confirmed.
    await page.click('tr[data-queue="requests"] button[data-action="redrive"]');
    await page.waitForSelector('tr[data-queue="requests"] .confirm:has-text("Move the 1 dead-lettered message of requests back")');
    expect(await page.locator('tr[data-queue="requests"] .dead-letters').textContent()).toBe('1');
    // The requests queue has a slow lane, empty here; the deliveries queue has none.
    expect(await page.locator('tr[data-queue="requests"] .slow-lane').textContent()).toBe('0');
    expect(await page.locator('tr[data-queue="deliveries"] .slow-lane').textContent()).toBe('—');
    await page.click('tr[data-queue="requests"] button[data-action="confirm-redrive"]');
    await page.waitForSelector('tr[data-queue="requests"] [data-row-message]:has-text("Redrive of requests: 1 moved")', { timeout: 30_000 });
    // Reopened by the redrive: a new round begins (and, demo.fail being what it is, fails again).
    await page.waitForSelector(`li[data-request-id="${id}"] .history-row:has-text("failed → accepted")`, { timeout: 30_000 });
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'console.png'), fullPage: true });
  });

  it('shows a request\'s callback and its delivery in the request\'s detail', async () => {
    const api = apiClient(runtime);
    expect((await api('GET', '/v1/callback-secret')).status).toBe(201);
    const callbackHook = await startReceiver();
    try {
      const submitted = await api('POST', '/v1/requests', {
        body: { type: 'demo.sleep', payload: { ms: 1 }, callbackUrl: callbackHook.url, callbackEvents: ['request.succeeded'] },
        headers: { 'idempotency-key': 'console-callback' },
      });
      const id = submitted.body!.id as string;
      await page.waitForSelector(`li[data-request-id="${id}"][data-status="succeeded"]`, { timeout: 20_000 });
      await page.click(`li[data-request-id="${id}"] button.summary`);
      await page.waitForSelector(`li[data-request-id="${id}"] .detail p:has-text("callback ${callbackHook.url} · request.succeeded")`, { timeout: 20_000 });
      await page.waitForSelector(`li[data-request-id="${id}"] tr[data-delivery-id="dlv_${id}.callback.succeeded"]:has-text("request.succeeded · callback") .badge.succeeded`, {
        timeout: 20_000,
      });
    } finally {
      await callbackHook.close();
    }
  });

  it('shows what an endpoint was registered with: its filter, thin payloads, its rate and its signature scheme', async () => {
    const filter = { 'data.type': { $eq: 'order.process' } };
    const registered = await apiClient(runtime)('POST', '/v1/webhooks', {
      body: { url: `${receiver.url}/settings`, filter, payloadMode: 'thin', rateLimitPerSecond: 2, signatureScheme: 'v1a' },
    });
    expect(registered.status).toBe(201);
    const block = `[data-endpoint-id="${registered.body!.id as string}"]`;
    await page.waitForSelector(`${block} p.settings`, { timeout: 20_000 });
    const settings = await page.locator(`${block} p.settings`).textContent();
    expect(settings).toContain('payload thin');
    expect(settings).toContain('signature v1a');
    expect(settings).toContain('at most 2 a second');
    expect(settings).toContain(`filter ${JSON.stringify(filter)}`);
  });
});
