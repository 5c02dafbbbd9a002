/**
 * `npm run screenshots`: starts the local runtime on its own (in memory, a free port), makes a
 * little traffic — two receivers, one of which fails its first attempts, requests that succeed
 * and one that fails, a test event, a direct email — and saves the console as Chromium shows it
 * at 1280×800 to docs/console.png, the picture the README shows.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLocalRuntime } from '../lib/local/runtime';
import { launchBrowser } from '../test/support/browser';

const VIEWPORT = { width: 1280, height: 800 };
const OUTPUT = join(__dirname, '..', 'docs', 'console.png');
/** Attempts the flaky receiver refuses before it accepts, so a delivery shows a second round of attempts. */
const FLAKY_FAILURES = 3;

async function receiver(fails: number): Promise<{ url: string; server: Server }> {
  let seen = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen++;
      res.writeHead(seen <= fails ? 503 : 200, { 'content-type': 'text/plain' });
      res.end(seen <= fails ? 'busy, try later' : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`, server };
}

async function main(): Promise<void> {
  const runtime = await startLocalRuntime({ port: 0, emailFromAddress: 'receipts@shop.example' });
  const receivers = await Promise.all([receiver(0), receiver(FLAKY_FAILURES)]);
  const browser = await launchBrowser();
  try {
    const call = async (method: string, path: string, body?: unknown, key?: string) => {
      const response = await fetch(runtime.url + path, {
        method,
        headers: { authorization: `Bearer ${runtime.apiKey}`, 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return (await response.json()) as Record<string, any>;
    };
    const endpoints = [];
    for (const { url } of receivers) endpoints.push(await call('POST', '/v1/webhooks', { url, description: 'order service' }));
    await call('POST', `/v1/webhooks/${endpoints[1]!.id}/test`);
    const ids: string[] = [];
    for (const [n, body] of [
      { type: 'demo.sleep', payload: { ms: 300 }, notify: { email: 'buyer@example.com' } },
      { type: 'demo.sleep', payload: { ms: 600 } },
      { type: 'demo.fail', payload: { message: 'the card was declined' } },
      { type: 'demo.sleep', payload: { ms: 200 } },
    ].entries()) {
      ids.push((await call('POST', '/v1/requests', body, `screenshot-${n}-${Date.now()}`)).id as string);
    }

    const page = await browser.newPage({ viewport: VIEWPORT });
    await page.goto(`${runtime.url}/`);
    await page.waitForSelector('#connection:text("live")');
    // Everything settled: every request finished and the flaky endpoint accepted its deliveries.
    for (const id of ids) await page.waitForSelector(`li[data-request-id="${id}"]:not([data-status="accepted"]):not([data-status="processing"])`, { timeout: 60_000 });
    await page.waitForSelector(`[data-endpoint-id="${endpoints[1]!.id}"] tr[data-delivery-id] .badge.succeeded`, { timeout: 60_000 });
    await page.click(`li[data-request-id="${ids[0]}"] button.summary`);
    await page.waitForSelector(`li[data-request-id="${ids[0]}"] .payload`);
    const retried = page.locator(`[data-endpoint-id="${endpoints[1]!.id}"] tr[data-delivery-id]`).last();
    await retried.locator('button[data-action="retry"]').click();
    await retried.locator('[data-row-message]').waitFor();
    await sleep(1_500);
    // The click scrolled to the retried row; the picture is of the page's top, as a visitor first sees it.
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: OUTPUT });
    console.log(`Saved ${OUTPUT} (${VIEWPORT.width}×${VIEWPORT.height})`);
  } finally {
    await browser.close();
    for (const { server } of receivers) server.close();
    await runtime.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
