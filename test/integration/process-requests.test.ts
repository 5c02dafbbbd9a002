import { randomBytes } from 'node:crypto';
import { ChangeMessageVisibilityCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ENV } from '../../lambdas/settings/environment';
import { queues } from '../../lib/topology';
import { dynamoClient, s3Client } from '../../lambdas/adapters/aws-clients';
import { S3RequestBodies } from '../../lambdas/adapters/s3-request-bodies';
import { DynamoRedriveLog } from '../../lambdas/adapters/dynamo-redrive-log';
import { dynamoRequestPorts, type DynamoRequestPorts } from '../../lambdas/adapters/dynamo-request-ports';
import { DynamoWalletLedger } from '../../lambdas/adapters/dynamo-wallet-ledger';
import { SqsRequestQueue } from '../../lambdas/adapters/sqs-request-queue';
import { processRequest } from '../../lambdas/core/requests/process-request';
import { claimRequest } from '../../lambdas/core/requests/claim-request';
import { HISTORY_LIMIT, type HeraldRequest } from '../../lambdas/core/requests/request';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys as keyOf } from '../../lambdas/adapters/dynamo/keys';
import { fingerprint } from '../../lambdas/core/shared/fingerprint';
import type { Processor, ProcessorContext } from '../../lambdas/core/requests/processor';
import { demoSleep } from '../../lambdas/processors/demo';
import { storedBodyObject } from '../support/stored-bodies';
import { walletDebit } from '../../lambdas/processors/wallet-debit';
import { apiEvent, invoke, lambdaContext } from '../support/api-events';
import { provisionForTest } from '../support/endpoints';
import { acknowledge, duplicate, receiveFor } from '../support/sqs-records';

let sqs: SQSClient;
let queue: { url: string; arn: string; deadLetterUrl: string };
let store: DynamoRequestPorts;
let ledger: DynamoWalletLedger;
let redrives: DynamoRedriveLog;
let tableName: string;
let bodiesBucket: string;
let handlers: { submit: unknown; process: (event: SQSEvent, context: unknown) => Promise<SQSBatchResponse> };

beforeAll(async () => {
  const resources = await provisionForTest('process');
  sqs = new SQSClient({ endpoint: resources.endpoints.sqs });
  queue = { url: resources.queues.requests.url, arn: resources.queues.requests.arn, deadLetterUrl: resources.queues.requests.deadLetterUrl };
  tableName = resources.tableName;
  bodiesBucket = resources.bodiesBucket;
  store = dynamoRequestPorts(dynamoClient(), resources.tableName, 30, new S3RequestBodies(s3Client(), bodiesBucket));
  ledger = new DynamoWalletLedger(dynamoClient(), resources.tableName);
  redrives = new DynamoRedriveLog(dynamoClient(), resources.tableName);
  handlers = {
    submit: (await import('../../lambdas/handlers/submit-request')).handler,
    process: (await import('../../lambdas/handlers/process-requests')).handler as never,
  };
});

afterAll(() => sqs.destroy());

let keys = 0;
const MERCHANT = 'mer_p';
async function submit(type: string, payload: Record<string, unknown>, merchantId = MERCHANT): Promise<string> {
  const response = await invoke(
    handlers.submit,
    apiEvent({ method: 'POST', path: '/v1/requests', headers: { 'idempotency-key': `process-${++keys}` }, body: { type, payload }, merchantId }),
  );
  expect(response.status).toBe(202);
  return response.body!.id as string;
}

/** Runs the worker on records as the event source would: one invocation, then deletes what it did not report as failed. */
async function deliver(records: SQSRecord[], remainingMs = 60_000): Promise<string[]> {
  const response = await handlers.process({ Records: records }, lambdaContext(remainingMs));
  const failed = (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
  for (const record of records) if (!failed.includes(record.messageId)) await acknowledge(sqs, queue.url, record);
  return failed;
}

/** The message again, as SQS hands it out once its visibility timeout has passed (receive count + 1). */
async function redeliver(record: SQSRecord, requestId: string): Promise<SQSRecord> {
  await sqs
    .send(new ChangeMessageVisibilityCommand({ QueueUrl: queue.url, ReceiptHandle: record.receiptHandle, VisibilityTimeout: 0 }))
    // A retry the worker scheduled with no delay is visible already.
    .catch((error: Error) => {
      if (error.name !== 'MessageNotInflight') throw error;
    });
  const [again] = await receiveFor(sqs, queue, requestId);
  expect(again).toBeDefined();
  return again!;
}

/** Runs the use case once on a received message with one processor standing in for every type, announcing nothing. */
function processOnce(processor: Processor<any, unknown>, requestId: string, record: SQSRecord) {
  return processRequest(
    {
      store: store.lifecycle,
      queue: new SqsRequestQueue(sqs, queue.url),
      events: { requestFinished: async () => undefined },
      redrives,
      queueName: 'requests',
      processorFor: () => processor,
      services: { wallets: ledger },
      retry: queues.requests.retry,
      maxReceiveCount: queues.requests.retry.maxAttempts,
      retryScale: 0,
      remainingTimeMs: () => 60_000,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    },
    { requestId, type: 'demo.sleep', receiveCount: 1, receiptHandle: record.receiptHandle },
  );
}

async function request(id: string): Promise<HeraldRequest> {
  return (await store.queries.get(id))!;
}

const transitions = (r: HeraldRequest) => r.history.filter((h) => !h.step).map((h) => h.to);
const steps = (r: HeraldRequest) => r.history.filter((h) => h.step).map((h) => h.step);

async function fund(walletId: string, amountCents: number, merchantId = MERCHANT): Promise<void> {
  await ledger.apply(merchantId, { reference: `top-up-${walletId}`, entry: 'credit', walletId, amountCents });
}

async function balance(walletId: string, merchantId = MERCHANT): Promise<number | undefined> {
  return (await ledger.wallet(merchantId, walletId))?.balanceCents;
}

const order = (simulate: Record<string, unknown> = {}, unitPriceCents = 1_250) => ({
  orderId: `ord-${keys}`,
  currency: 'EUR',
  items: [{ sku: 'tea', quantity: 2, unitPriceCents }],
  simulate,
});

describe('the process worker', () => {
  it('runs the processor once when two copies of a message arrive at the same time, and again later', async () => {
    await fund('w-dup', 1_000);
    const id = await submit('wallet.debit', { walletId: 'w-dup', amountCents: 300, steps: [{ kind: 'credit', walletId: 'w-dup-shop', amountCents: 300 }] });
    const [first] = await receiveFor(sqs, queue, id);
    await duplicate(sqs, queue.url, first!);
    const [second] = await receiveFor(sqs, queue, id);

    const failures = await Promise.all([deliver([first!]), deliver([second!])]);
    await duplicate(sqs, queue.url, first!);
    const [late] = await receiveFor(sqs, queue, id);
    expect(await deliver([late!])).toEqual([]);

    expect(failures).toEqual([[], []]);
    expect(await balance('w-dup')).toBe(700);
    expect(await balance('w-dup-shop')).toBe(300);
    expect((await ledger.entries(MERCHANT, id)).map((e) => e.entry)).toEqual(['0-debit', '1-credit']);
    const done = await request(id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 1, result: { walletId: 'w-dup', debitedCents: 300 } });
    expect(transitions(done)).toEqual(['accepted', 'processing', 'succeeded']);
  });

  it('recovers a request whose worker died after claiming it, once the lease has run out', async () => {
    const id = await submit('order.process', order());
    const [record] = await receiveFor(sqs, queue, id);
    // The first worker claims with a lease that ends at once, then is never heard from again.
    const claim = await claimRequest(store.lifecycle, id, { leaseMs: 1, maxAttempts: 5 }, 0);
    expect(claim.outcome).toBe('claimed');
    await new Promise((resolve) => setTimeout(resolve, 10));

    const again = await redeliver(record!, id);
    expect(again.attributes.ApproximateReceiveCount).toBe('2');
    expect(await deliver([again])).toEqual([]);

    const done = await request(id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2, result: { orderId: expect.any(String), totalCents: 2_500, itemCount: 2 } });
    expect(transitions(done)).toEqual(['accepted', 'processing', 'processing', 'succeeded']);
    expect(done.history[2]!.reason).toMatch(/lease expired/);
  });

  it('acknowledges without work a message whose request another worker holds under a live lease', async () => {
    const id = await submit('order.process', order());
    const [record] = await receiveFor(sqs, queue, id);
    await claimRequest(store.lifecycle, id, { leaseMs: 60_000, maxAttempts: 5 }, 0);

    expect(await deliver([record!])).toEqual([]);

    const held = await request(id);
    expect(held).toMatchObject({ status: 'processing', attempts: 1 });
    expect(await receiveFor(sqs, queue, id, 1, 1_500)).toEqual([]);
  });

  it('gives the merchant its in-flight slot back when the worker finishes a request', async () => {
    const merchant = 'mer_one_slot';
    const submitRaw = () =>
      invoke(
        handlers.submit,
        apiEvent({ method: 'POST', path: '/v1/requests', headers: { 'idempotency-key': `slot-${++keys}` }, body: { type: 'order.process', payload: order() }, merchantId: merchant }),
      );
    const saved = process.env[ENV.maxRequestsInFlight];
    process.env[ENV.maxRequestsInFlight] = '1';
    try {
      const first = await submitRaw();
      expect(first.status).toBe(202);
      expect((await submitRaw()).status).toBe(429);

      await deliver(await receiveFor(sqs, queue, first.body!.id as string));
      expect((await store.queries.get(first.body!.id as string))?.status).toBe('succeeded');
      expect((await submitRaw()).status).toBe(202);
    } finally {
      if (saved === undefined) delete process.env[ENV.maxRequestsInFlight];
      else process.env[ENV.maxRequestsInFlight] = saved;
    }
  });

  it('ends a permanent failure failed at once, without retries, and drops its message', async () => {
    const id = await submit('order.process', order({}, 2_000_000));
    const [record] = await receiveFor(sqs, queue, id);

    expect(await deliver([record!])).toEqual([]);

    const failed = await request(id);
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'order_limit_exceeded', retryable: false } });
    expect(transitions(failed)).toEqual(['accepted', 'processing', 'failed']);
    expect(await receiveFor(sqs, queue, id, 1, 1_500)).toEqual([]);
  });

  it('puts a transient failure back on the queue with the error in the history, then succeeds', async () => {
    const id = await submit('order.process', order({ failFirstAttempts: 1 }));
    const [record] = await receiveFor(sqs, queue, id);

    expect(await deliver([record!])).toEqual([record!.messageId]);
    const waiting = await request(id);
    expect(waiting).toMatchObject({ status: 'accepted', attempts: 1, error: { code: 'order_service_unavailable', retryable: true } });
    expect(waiting.nextAttemptAt).toBeDefined();
    expect(waiting.history.at(-1)!.reason).toMatch(/^retrying in \d+s: The order service is unavailable/);

    const [again] = await receiveFor(sqs, queue, id);
    expect(await deliver([again!])).toEqual([]);
    const done = await request(id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(done.error).toBeUndefined();
  });

  it('reports each of two concurrent batches its own failures', async () => {
    const failing = await submit('order.process', order({ failFirstAttempts: 1 }));
    const passing = await submit('order.process', order({ durationMs: 300 }));
    const [failingRecord] = await receiveFor(sqs, queue, failing);
    const [passingRecord] = await receiveFor(sqs, queue, passing);

    const [slow, fast] = await Promise.all([
      handlers.process({ Records: [passingRecord!] }, lambdaContext()),
      handlers.process({ Records: [failingRecord!] }, lambdaContext()),
    ]);

    expect(slow.batchItemFailures).toEqual([]);
    expect(fast.batchItemFailures).toEqual([{ itemIdentifier: failingRecord!.messageId }]);
    await acknowledge(sqs, queue.url, passingRecord!);
  });

  it('aborts work that would outlive the invocation and retries it', async () => {
    const id = await submit('demo.sleep', { ms: 5_000 });
    const [record] = await receiveFor(sqs, queue, id);

    // 3.8 s left: the processor gets what remains after the safety margin, about 0.8 s, so the
    // 5 s sleep is aborted (a finished sleep would have succeeded) and the message is retried.
    expect(await deliver([record!], 3_800)).toEqual([record!.messageId]);

    expect(await request(id)).toMatchObject({ status: 'accepted', error: { code: 'timeout', retryable: true } });
  });

  it('refuses a result larger than 256 KiB with a permanent error', async () => {
    const id = await submit('demo.sleep', { ms: 0 });
    const [record] = await receiveFor(sqs, queue, id);
    const huge: Processor<{ ms: number }, string> = { ...demoSleep, run: async () => 'x'.repeat(300 * 1024) };

    const outcome = await processOnce(huge, id, record!);

    expect(outcome.kind).toBe('failed');
    const failed = await request(id);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'result_too_large', retryable: false } });
    expect(failed.result).toBeUndefined();
  });
});

describe('order.process', () => {
  it('refuses at submit an order with a repeated SKU and a bad currency, naming both fields', async () => {
    const response = await invoke(
      handlers.submit,
      apiEvent({
        method: 'POST',
        path: '/v1/requests',
        headers: { 'idempotency-key': 'order-invalid' },
        body: { type: 'order.process', payload: { orderId: 'o-1', currency: 'eur', items: [{ sku: 'a', quantity: 1, unitPriceCents: 1 }, { sku: 'a', quantity: 2, unitPriceCents: 1 }] } },
        merchantId: 'mer_p',
      }),
    );
    expect(response.status).toBe(400);
    expect(response.body!.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['/payload/currency', '/payload/items/1/sku']));
  });
});

describe('the wallet.debit saga', () => {
  const refusedSaga = (walletId: string, shop: string) => ({
    walletId,
    amountCents: 400,
    steps: [
      { kind: 'credit', walletId: shop, amountCents: 400 },
      { kind: 'check', name: 'fraud-screen', outcome: 'refuse' },
    ],
  });

  it('undoes its completed steps in reverse order when a later step refuses, once, though the message arrives three times', async () => {
    await fund('w-alice', 1_000);
    const id = await submit('wallet.debit', refusedSaga('w-alice', 'w-shop'));
    const [first] = await receiveFor(sqs, queue, id);
    await duplicate(sqs, queue.url, first!);
    const [second] = await receiveFor(sqs, queue, id);

    const failures = await Promise.all([deliver([first!]), deliver([second!])]);
    await duplicate(sqs, queue.url, first!);
    const [third] = await receiveFor(sqs, queue, id);
    expect(await deliver([third!])).toEqual([]);

    expect(failures).toEqual([[], []]);
    expect(await balance('w-alice')).toBe(1_000);
    expect(await balance('w-shop')).toBe(0);
    expect((await ledger.entries(MERCHANT, id)).map((e) => [e.entry, e.amountCents])).toEqual([
      ['0-debit', -400],
      ['1-credit', 400],
      ['undo-0-debit', 400],
      ['undo-1-credit', -400],
    ]);
    const failed = await request(id);
    expect(failed).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'step_refused', retryable: false, compensated: true, message: expect.stringContaining('fraud-screen refused') },
    });
    expect(steps(failed)).toEqual(['debit', 'credit w-shop', 'check fraud-screen', 'undo credit w-shop', 'undo debit']);
    expect(transitions(failed)).toEqual(['accepted', 'processing', 'failed']);
  });

  it('restores the balance exactly once when a worker died after compensating and the message comes back', async () => {
    await fund('w-bob', 500);
    const id = await submit('wallet.debit', refusedSaga('w-bob', 'w-shop-2'));
    const [record] = await receiveFor(sqs, queue, id);
    // The dead worker did all of the saga, compensations included, and never recorded the outcome.
    const claim = await claimRequest(store.lifecycle, id, { leaseMs: 1, maxAttempts: 5 }, 0);
    if (claim.outcome !== 'claimed') throw new Error('claim failed');
    const context: ProcessorContext = {
      requestId: id,
      merchantId: MERCHANT,
      attempt: 1,
      signal: new AbortController().signal,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      recordStep: () => undefined,
      services: { wallets: ledger },
    };
    await expect(walletDebit.run(walletDebit.schema.parse(claim.request.payload), context)).rejects.toThrow(/refused/);
    expect(await balance('w-bob')).toBe(500);

    const again = await redeliver(record!, id);
    expect(await deliver([again])).toEqual([]);

    expect(await balance('w-bob')).toBe(500);
    expect(await balance('w-shop-2')).toBe(0);
    expect(await ledger.entries(MERCHANT, id)).toHaveLength(4);
    const failed = await request(id);
    expect(failed).toMatchObject({ status: 'failed', attempts: 2, error: { compensated: true } });
    expect(failed.history.filter((h) => h.step === 'undo debit').map((h) => h.reason)).toEqual(['refund of 400 to w-bob already applied']);
  });

  it('refuses a debit the wallet cannot cover, leaving the balance alone and nothing to compensate', async () => {
    await fund('w-carol', 100);
    const id = await submit('wallet.debit', { walletId: 'w-carol', amountCents: 500, steps: [{ kind: 'credit', walletId: 'w-shop-3', amountCents: 500 }] });
    const [record] = await receiveFor(sqs, queue, id);

    expect(await deliver([record!])).toEqual([]);

    expect(await balance('w-carol')).toBe(100);
    expect(await balance('w-shop-3')).toBeUndefined();
    expect(await ledger.entries(MERCHANT, id)).toEqual([]);
    const failed = await request(id);
    expect(failed.error).toEqual({ code: 'insufficient_funds', message: 'Wallet w-carol cannot cover 500', retryable: false });
  });

  it("cannot debit another merchant's wallet: nothing moves and no balance is revealed", async () => {
    await fund('w-victim', 10_000, 'mer_victim');
    const id = await submit(
      'wallet.debit',
      { walletId: 'w-victim', amountCents: 2_500, steps: [{ kind: 'credit', walletId: 'w-thief', amountCents: 2_500 }] },
      'mer_thief',
    );
    const [record] = await receiveFor(sqs, queue, id);

    expect(await deliver([record!])).toEqual([]);

    expect(await balance('w-victim', 'mer_victim')).toBe(10_000);
    expect(await balance('w-thief', 'mer_thief')).toBeUndefined();
    expect(await ledger.entries('mer_thief', id)).toEqual([]);
    expect(await ledger.entries('mer_victim', id)).toEqual([]);
    const failed = await request(id);
    // Exactly what a wallet that exists nowhere answers: the other merchant's wallet is invisible.
    expect(failed.error).toEqual({ code: 'unknown_wallet', message: 'Wallet w-victim does not exist', retryable: false });
    expect(JSON.stringify(failed)).not.toContain('10000');
  });

  it("credits the submitting merchant's own wallet when a step names a wallet id another merchant also uses", async () => {
    await fund('w-payer', 1_000, 'mer_payer');
    await fund('w-till', 50, 'mer_other');
    const id = await submit('wallet.debit', { walletId: 'w-payer', amountCents: 300, steps: [{ kind: 'credit', walletId: 'w-till', amountCents: 300 }] }, 'mer_payer');
    const [record] = await receiveFor(sqs, queue, id);

    expect(await deliver([record!])).toEqual([]);

    expect(await request(id)).toMatchObject({ status: 'succeeded' });
    expect(await balance('w-payer', 'mer_payer')).toBe(700);
    expect(await balance('w-till', 'mer_payer')).toBe(300);
    expect(await balance('w-till', 'mer_other')).toBe(50);
  });

  it('resumes after a transient failure without debiting twice', async () => {
    await fund('w-dave', 1_000);
    const id = await submit('wallet.debit', {
      walletId: 'w-dave',
      amountCents: 250,
      steps: [{ kind: 'credit', walletId: 'w-shop-4', amountCents: 250 }, { kind: 'check', name: 'stock', failFirstAttempts: 1 }],
    });
    const [record] = await receiveFor(sqs, queue, id);
    expect(await deliver([record!])).toEqual([record!.messageId]);
    const [again] = await receiveFor(sqs, queue, id);
    expect(await deliver([again!])).toEqual([]);

    expect(await balance('w-dave')).toBe(750);
    expect(await balance('w-shop-4')).toBe(250);
    const done = await request(id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(done.history.filter((h) => h.step === 'debit').map((h) => h.reason)).toEqual([
      'debited 250 from w-dave',
      'debit of 250 from w-dave already applied',
    ]);
  });
});

describe('a redriven message', () => {
  it('reopens a request whose attempts ran out only after a redrive began, and only once for two copies', async () => {
    const unavailableUntil = new Date(Date.now() + 2_500).toISOString();
    const id = await submit('order.process', order({ unavailableUntil }));
    let [record] = await receiveFor(sqs, queue, id);
    for (let attempt = 1; attempt < queues.requests.retry.maxAttempts; attempt++) {
      expect(await deliver([record!])).toEqual([record!.messageId]);
      record = await redeliver(record!, id);
    }
    expect(await deliver([record!])).toEqual([record!.messageId]);
    const exhausted = await request(id);
    expect(exhausted).toMatchObject({ status: 'failed', attempts: queues.requests.retry.maxAttempts, error: { retryable: true } });
    await acknowledge(sqs, queue.url, record!);
    await new Promise((resolve) => setTimeout(resolve, Date.parse(unavailableUntil) - Date.now() + 50));

    // A stray copy with no redrive behind it changes nothing; it is kept on its way to the DLQ.
    await duplicate(sqs, queue.url, record!);
    const [stray] = await receiveFor(sqs, queue, id);
    expect(await deliver([stray!])).toEqual([stray!.messageId]);
    expect(await request(id)).toMatchObject({ status: 'failed', version: exhausted.version });
    const [kept] = await receiveFor(sqs, queue, id);
    await acknowledge(sqs, queue.url, kept!);

    await redrives.begin('requests');
    await duplicate(sqs, queue.url, record!);
    await duplicate(sqs, queue.url, record!);
    const copies = await receiveFor(sqs, queue, id, 2);
    expect(copies).toHaveLength(2);
    const failures = await Promise.all(copies.map((copy) => deliver([copy])));

    expect(failures).toEqual([[], []]);
    const done = await request(id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 1, redriveGeneration: 1 });
    expect(done.enqueuedAt! > exhausted.enqueuedAt!).toBe(true);
    expect(done.history.filter((h) => h.reason === 'redriven')).toEqual([
      { from: 'failed', to: 'accepted', at: expect.any(String), attempt: queues.requests.retry.maxAttempts, reason: 'redriven' },
    ]);
    expect(transitions(done).slice(-4)).toEqual(['failed', 'accepted', 'processing', 'succeeded']);
  });
});

describe('attempts that die with their worker', () => {
  it('count against the cap: a fresh message then ends the request failed, attempts-exhausted, and goes to the DLQ', async () => {
    const max = queues.requests.retry.maxAttempts;
    const id = await submit('order.process', order());
    const [original] = await receiveFor(sqs, queue, id);
    await acknowledge(sqs, queue.url, original!);
    // Every allowed attempt is claimed by a worker that dies at once: its lease runs out and nobody finishes it.
    for (let attempt = 0; attempt < max; attempt++) {
      expect((await claimRequest(store.lifecycle, id, { leaseMs: 1, maxAttempts: max }, attempt)).outcome).toBe('claimed');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect((await claimRequest(store.lifecycle, id, { leaseMs: 1, maxAttempts: max }, max)).outcome).toBe('lost');

    // The sweeper's re-enqueue: a new message on its first receive, which must not buy another attempt.
    await duplicate(sqs, queue.url, original!);
    let [fresh] = await receiveFor(sqs, queue, id);
    expect(fresh!.attributes.ApproximateReceiveCount).toBe('1');
    expect(await deliver([fresh!])).toEqual([fresh!.messageId]);

    const failed = await request(id);
    expect(failed).toMatchObject({ status: 'failed', attempts: max, error: { code: 'attempts-exhausted', retryable: true } });
    expect(failed.history.at(-1)).toMatchObject({ from: 'processing', to: 'failed', reason: 'attempts-exhausted' });
    expect(failed.leaseUntil).toBeUndefined();

    // Each further receive is a refused claim and nothing else, until SQS moves the message to the DLQ.
    for (let receive = 2; receive <= max; receive++) {
      fresh = await redeliver(fresh!, id);
      expect(await deliver([fresh])).toEqual([fresh.messageId]);
    }
    expect(await receiveFor(sqs, queue, id, 1, 1_000)).toEqual([]);
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.deadLetterUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect(Messages.map((message) => JSON.parse(message.Body!).requestId)).toContain(id);
    expect(await request(id)).toMatchObject({ status: 'failed', version: failed.version });
  });
});

describe('a request\'s history', () => {
  it('stays within its limit when a claim on a guess meets a history already full', async () => {
    const id = await submit('order.process', order());
    const at = new Date().toISOString();
    const rows = Array.from({ length: HISTORY_LIMIT }, (_, i) => ({ from: 'processing', to: 'accepted', at, attempt: 0, reason: `row ${i}` }));
    await dynamoClient().send(
      new UpdateCommand({ TableName: tableName, Key: { pk: `REQ#${id}`, sk: 'REQ' }, UpdateExpression: 'SET history = :rows', ExpressionAttributeValues: { ':rows': rows } }),
    );

    const claim = await claimRequest(store.lifecycle, id, { leaseMs: 60_000, maxAttempts: 5 }, 0);

    expect(claim.outcome).toBe('claimed');
    const stored = await request(id);
    expect(stored.history).toHaveLength(HISTORY_LIMIT);
    expect(stored.history[0]).toMatchObject({ reason: 'row 0' });
    expect(stored.history.at(-1)).toMatchObject({ from: 'accepted', to: 'processing', attempt: 1 });
  });
});

describe('payloads and results too large to keep inline', () => {
  // Random base64 does not compress: it stays over 4 KB whatever the item stores it as.
  const filler = randomBytes(75 * 1024).toString('base64');
  const raw = async (key: { pk: string; sk: string }) =>
    (await dynamoClient().send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;
  const submitBody = (key: string, body: Record<string, unknown>) =>
    invoke(handlers.submit, apiEvent({ method: 'POST', path: '/v1/requests', headers: { 'idempotency-key': key }, body, merchantId: MERCHANT }));

  const storedObject = (key: string) => storedBodyObject(s3Client(), bodiesBucket, key);

  it('processes a 100 KB payload, stored in the bodies bucket, and reads its 100 KB result back', async () => {
    const id = await submit('demo.sleep', { ms: 0, filler });
    const item = await raw(keyOf.request(id));
    // The request item keeps a reference only, so each later write of it is billed for a small item.
    expect(item!.payload).toBeUndefined();
    expect(Buffer.byteLength(JSON.stringify(item))).toBeLessThan(1024);
    expect(await storedObject(`payload/${MERCHANT}/${id}/${item!.payloadRef}`)).toEqual({ ms: 0, filler });

    const [record] = await receiveFor(sqs, queue, id);
    const echo: Processor<{ ms: number; filler?: string }, { echoed: string }> = {
      ...demoSleep,
      run: async (payload: { filler?: string }) => ({ echoed: `${payload.filler}!` }),
    } as never;
    const outcome = await processOnce(echo, id, record!);
    await acknowledge(sqs, queue.url, record!);

    expect(outcome).toMatchObject({ kind: 'succeeded', request: { result: { echoed: `${filler}!` } } });
    const finished = await raw(keyOf.request(id));
    expect(finished!.result).toBeUndefined();
    expect(Buffer.byteLength(JSON.stringify(finished))).toBeLessThan(4 * 1024);
    expect(await storedObject(`result/${MERCHANT}/${id}/1`)).toEqual({ echoed: `${filler}!` });
    expect(await request(id)).toMatchObject({ status: 'succeeded', result: { echoed: `${filler}!` } });
  });

  it('refuses a replay with another body under the same key and leaves the stored payload as it was', async () => {
    const body = { type: 'demo.sleep', payload: { ms: 0, filler } };
    const first = await submitBody('large-replay', body);
    expect(first.status).toBe(202);
    const id = first.body!.id as string;

    const other = await submitBody('large-replay', { type: 'demo.sleep', payload: { ms: 0, filler: randomBytes(75 * 1024).toString('base64') } });
    expect(other.status).toBe(422);

    expect(await storedObject(`payload/${MERCHANT}/${id}/${fingerprint(body)}`)).toEqual({ ms: 0, filler });
    expect((await raw(keyOf.request(id)))!.payloadRef).toBe(fingerprint(body));
    const replay = await submitBody('large-replay', body);
    expect(replay).toMatchObject({ status: 202, body: { id } });
    const [record] = await receiveFor(sqs, queue, id);
    const claim = await claimRequest(store.lifecycle, id, { leaseMs: 10_000, maxAttempts: 5 }, 0);
    expect(claim).toMatchObject({ outcome: 'claimed', request: { payload: { ms: 0, filler } } });
    await acknowledge(sqs, queue.url, record!);
  });
});
