import type { Browser, Page } from 'playwright-core';
import type { LocalRuntime } from '../../lib/local/runtime';
import { launchBrowser } from '../support/browser';
import { apiClient, eventually, startTestRuntime } from '../support/local-runtime';
import { startReceiver, type WebhookReceiver } from '../support/webhook-receiver';

/** The viewport issue 25 measured the console at. */
const VIEWPORT = { width: 1280, height: 800 };
/** Failed attempts the flaky receiver answers before it accepts: enough for several rounds' worth of attempt rows. */
const FLAKY_FAILURES = 12;

let runtime: LocalRuntime;
let browser: Browser;
let page: Page;
let formReceiver: WebhookReceiver;
let flakyReceiver: WebhookReceiver;

beforeAll(async () => {
  [runtime, browser, formReceiver, flakyReceiver] = await Promise.all([
    // Retries in a blink, so failed attempts pile up within the test's time.
    startTestRuntime('console-work', { retryScale: 0.0001 }),
    launchBrowser(),
    startReceiver(),
    // A long unbroken body is what pushed the attempts column out of its card.
    startReceiver((n) => (n <= FLAKY_FAILURES ? { status: 500, body: `upstream-${'x'.repeat(600)}` } : { status: 200 })),
  ]);
  page = await browser.newPage({ viewport: VIEWPORT });
  await page.goto(`${runtime.url}/`);
  await page.waitForSelector('#connection:text("live")');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([formReceiver?.close(), flakyReceiver?.close()]);
  await runtime?.stop();
});

/** The ids of the requests listed, read as page script text (this Node project loads no DOM types). */
const shownRequestIds = async (): Promise<string[]> =>
  (await page.evaluate(`[...document.querySelectorAll('#requests > li')].map((item) => item.dataset.requestId)`)) as string[];

const resultsText = async (): Promise<string> => (await page.locator('#results').textContent()) ?? '';

describe('the local console as a place to work, at 1280×800', () => {
  it('registers an endpoint from its form, and that endpoint receives the event of a request submitted from the console', async () => {
    await page.fill('#register-form input[name="url"]', formReceiver.url);
    await page.fill('#register-form input[name="description"]', 'registered from the console');
    await page.click('#register-form button[type="submit"]');
    await page.waitForSelector('#results li:has-text("Registered")');
    expect(await resultsText()).toMatch(/signing secret, shown only now: whsec_/);
    await page.waitForSelector(`[data-endpoint-id] code:text-is("${formReceiver.url}")`);

    await page.click('#submit-panel summary');
    await page.fill('#submit-form input[name="type"]', 'demo.sleep');
    await page.fill('#submit-form textarea[name="payload"]', '{"ms": 10}');
    await page.click('#submit-form button[type="submit"]');
    await page.waitForSelector('#results li:has-text("Request req_")');
    const id = /Request (req_[0-9a-z]+)/.exec(await resultsText())![1]!;

    const event = await eventually(async () => formReceiver.received.map((r) => JSON.parse(r.body)).find((body) => body.data?.id === id));
    expect(event.type).toBe('request.succeeded');
    expect(formReceiver.received[0]!.headers['webhook-signature']).toMatch(/^v1,/);
  }, 90_000);

  it('disables, enables and rotates an endpoint from its buttons, each result kept on the endpoint', async () => {
    const endpoint = page.locator(`[data-endpoint-id]:has(code:text-is("${formReceiver.url}"))`);
    const id = (await endpoint.getAttribute('data-endpoint-id'))!;
    const message = endpoint.locator(`[data-row-message="endpoint:${id}"]`);

    await endpoint.locator('button[data-action="disable"]').click();
    await message.locator('text=disabled').waitFor();
    await endpoint.locator('h3 .badge.disabled').waitFor();
    expect((await apiClient(runtime)('GET', `/v1/webhooks/${id}`)).body!.disabled).toBe(true);

    await endpoint.locator('button[data-action="enable"]').click();
    await message.locator('text=enabled').waitFor();
    await endpoint.locator('h3 .badge.succeeded').waitFor();
    expect((await apiClient(runtime)('GET', `/v1/webhooks/${id}`)).body!.disabled).toBe(false);

    await endpoint.locator('button[data-action="rotate"]').click();
    await message.locator('text=/New signing secret whsec_/').waitFor();
    expect(await message.textContent()).toMatch(/the previous one signs too until \d{4}-\d{2}-\d{2}T/);
  }, 60_000);

  it('shows a request found by id with its payload, idempotency key and notify targets', async () => {
    const submitted = await apiClient(runtime)('POST', '/v1/requests', {
      body: { type: 'demo.sleep', payload: { ms: 5, note: 'find me' }, notify: { email: 'buyer@example.com' } },
      headers: { 'idempotency-key': 'console-work-detail' },
    });
    expect(submitted.status).toBe(202);
    const id = submitted.body!.id as string;

    await page.fill('#search input[name="id"]', id);
    await page.click('#search button[type="submit"]');
    const found = page.locator(`[data-found-id="${id}"]`);
    await found.waitFor();
    expect(await found.locator('.payload').textContent()).toContain('"note": "find me"');
    expect(await found.locator('.idempotency-key code').textContent()).toBe('console-work-detail');
    expect(await found.locator('.notify-targets').textContent()).toContain('email buyer@example.com');
    // The route behind the search answers a found request as JSON, not as a problem: its `type` is the request's.
    const detail = await fetch(`${runtime.url}/local/console/requests/${id}`);
    expect([detail.status, detail.headers.get('content-type')]).toEqual([200, 'application/json']);
    const missing = await fetch(`${runtime.url}/local/console/requests/req_00000000000000000000000000`);
    expect([missing.status, missing.headers.get('content-type')]).toEqual([404, 'application/problem+json']);

    await page.fill('#search input[name="id"]', 'req_00000000000000000000000000');
    await page.click('#search button[type="submit"]');
    await page.waitForSelector('#found .bad:has-text("404")');
    await page.click('#found button[data-action="close-found"]');
  }, 60_000);

  it('keeps the page within 1280 px with many deliveries, failed attempts, a test event and every round open', async () => {
    expect((await apiClient(runtime)('POST', '/v1/webhooks', { body: { url: flakyReceiver.url } })).status).toBe(201);
    const ids: string[] = [];
    for (let n = 0; n < 8; n++) {
      const submitted = await apiClient(runtime)('POST', '/v1/requests', { body: { type: 'demo.sleep', payload: { ms: 1 } }, headers: { 'idempotency-key': `console-work-${n}` } });
      ids.push(submitted.body!.id as string);
    }
    const flaky = page.locator(`[data-endpoint-id]:has(code:text-is("${flakyReceiver.url}"))`);
    await flaky.waitFor();
    await flaky.locator('button[data-action="test"]').click();
    await page.waitForSelector('#results li:has-text("Test event evt_")');
    // Every request's delivery to the flaky endpoint has ended, most after failed attempts.
    for (const id of ids) await flaky.locator(`tr[data-delivery-id*="${id}"] .badge.succeeded`).waitFor({ timeout: 60_000 });
    // Attempts are collapsed behind a count per round; open every one before measuring.
    for (const round of await flaky.locator('button[data-action="round"]').all()) await round.click();
    await flaky.locator('li.attempt').first().waitFor();
    expect(await flaky.locator('li.attempt').count()).toBeGreaterThan(0);
    await page.click(`li[data-request-id="${ids[0]}"] button.summary`);
    await page.waitForSelector(`li[data-request-id="${ids[0]}"] .history-row`);

    const widths = (await page.evaluate(`({
      page: document.documentElement.scrollWidth,
      overflowingSections: [...document.querySelectorAll('section')].filter((s) => s.scrollWidth > s.clientWidth).map((s) => s.id),
    })`)) as { page: number; overflowingSections: string[] };
    expect(widths.page).toBeLessThanOrEqual(VIEWPORT.width);
    expect(widths.overflowingSections).toEqual([]);
    // Action buttons stay on screen horizontally: none starts past the viewport's right edge.
    const rightmost = (await page.evaluate(`Math.max(...[...document.querySelectorAll('button[data-action="retry"]')].map((b) => b.getBoundingClientRect().right))`)) as number;
    expect(rightmost).toBeLessThanOrEqual(VIEWPORT.width);
  }, 120_000);

  it("keeps a retry's result on its row after the next render, and marks the retry's attempts as a new round", async () => {
    const flaky = page.locator(`[data-endpoint-id]:has(code:text-is("${flakyReceiver.url}"))`);
    const row = flaky.locator('tr[data-delivery-id]').first();
    const deliveryId = (await row.getAttribute('data-delivery-id'))!;
    const rowInEndpoint = flaky.locator(`tr[data-delivery-id="${deliveryId}"]`);
    const roundsBefore = await rowInEndpoint.locator('[data-round]').count();
    await rowInEndpoint.locator('button[data-action="retry"]').click();
    await rowInEndpoint.locator(`[data-row-message="delivery:${deliveryId}"]:has-text("Retry of")`).waitFor();

    // The retry's own attempt arrives in a later snapshot, as a round of its own.
    await rowInEndpoint.locator(`[data-round="${roundsBefore + 1}"]`).waitFor({ timeout: 30_000 });
    // And a render caused by something else entirely leaves the result in place.
    const other = await apiClient(runtime)('POST', '/v1/requests', { body: { type: 'demo.sleep', payload: { ms: 1 } }, headers: { 'idempotency-key': 'console-work-after-retry' } });
    await page.waitForSelector(`li[data-request-id="${other.body!.id}"]`, { timeout: 30_000 });
    expect(await rowInEndpoint.locator(`[data-row-message="delivery:${deliveryId}"]`).textContent()).toContain(`Retry of ${deliveryId}`);
    expect(await resultsText()).toContain(`Retry of ${deliveryId}`);

    // Kept until dismissed, then gone from both places.
    await rowInEndpoint.locator('button[data-action="dismiss-row"]').click();
    expect(await rowInEndpoint.locator('[data-row-message]').count()).toBe(0);
    expect(await resultsText()).not.toContain(`Retry of ${deliveryId}`);
  }, 90_000);

  it('pages through every request with the cursor, beyond the first page', async () => {
    // More than a page (25) of requests of this test's own, whatever the tests before it left.
    const submitted: string[] = [];
    for (let n = 0; n < 26; n++) {
      const answer = await apiClient(runtime)('POST', '/v1/requests', { body: { type: 'demo.sleep', payload: { ms: 1 } }, headers: { 'idempotency-key': `console-work-page-${n}` } });
      submitted.push(answer.body!.id as string);
    }
    // The newest is on the first page once the console has seen it.
    await page.waitForSelector(`li[data-request-id="${submitted[25]}"]`, { timeout: 30_000 });
    await page.waitForSelector('#older:not([disabled])', { timeout: 30_000 });
    const firstPage = await shownRequestIds();
    expect(firstPage).toHaveLength(25);
    await page.click('#older');
    await page.waitForSelector('#page-number:text("page 2")');
    // The oldest of this test's requests is past the first page, so the second page holds it.
    await page.waitForSelector(`li[data-request-id="${submitted[0]}"]`, { timeout: 30_000 });
    const secondPage = await shownRequestIds();
    expect(secondPage.length).toBeGreaterThan(0);
    expect(secondPage.filter((id) => firstPage.includes(id))).toEqual([]);
    await page.click('#newer');
    await page.waitForSelector('#page-number:text("page 1")');
  }, 120_000);
});
