import { randomBytes } from 'node:crypto';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DEMO_MERCHANT_ID, type LocalRuntime } from '../../lib/local/runtime';
import { queues } from '../../lib/topology';
import { apiClient, eventually, startTestRuntime } from '../support/local-runtime';
import { storedBodyObject } from '../support/stored-bodies';

let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  runtime = await startTestRuntime('lifecycle');
  api = apiClient(runtime);
});

afterAll(() => runtime?.stop());

describe('the local runtime', () => {
  it('answers /health', async () => {
    const response = await fetch(`${runtime.url}/health`);
    expect(response.status).toBe(200);
  });

  it('takes a demo.sleep request from accepted to succeeded', async () => {
    const submitted = await api('POST', '/v1/requests', {
      body: { type: 'demo.sleep', payload: { ms: 50 } },
      headers: { 'idempotency-key': 'e2e-sleep-1' },
    });
    expect(submitted.status).toBe(202);

    const done = await eventually(async () => {
      const polled = await api('GET', submitted.headers.get('location')!);
      return polled.body?.status === 'succeeded' ? polled.body : undefined;
    });
    expect(done.result).toEqual({ sleptMs: expect.any(Number) });
    expect(done.result.sleptMs).toBeGreaterThanOrEqual(45);
    expect(done.attempts).toBe(1);
    expect(done.history.map((h: { to: string }) => h.to)).toEqual(['accepted', 'processing', 'succeeded']);
  });

  it('takes a request with a 100 KB payload through: kept in the bodies bucket under its merchant, processed, its result polled', async () => {
    // Random base64 does not compress, so it goes to the bucket whatever the item would store.
    const payload = { ms: 0, filler: randomBytes(75 * 1024).toString('base64') };
    const submitted = await api('POST', '/v1/requests', { body: { type: 'demo.sleep', payload }, headers: { 'idempotency-key': 'e2e-large-1' } });
    expect(submitted.status).toBe(202);
    const id = submitted.body!.id as string;

    const done = await eventually(async () => {
      const polled = await api('GET', `/v1/requests/${id}`);
      return polled.body?.status === 'succeeded' ? polled.body : undefined;
    });
    expect(done.result).toEqual({ sleptMs: expect.any(Number) });

    const s3 = new S3Client({ endpoint: runtime.endpoints.s3, forcePathStyle: true });
    try {
      const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: runtime.resources.bodiesBucket, Prefix: `payload/${DEMO_MERCHANT_ID}/${id}/` }));
      expect(Contents).toHaveLength(1);
      expect(await storedBodyObject(s3, runtime.resources.bodiesBucket, Contents[0]!.Key!)).toEqual(payload);
    } finally {
      s3.destroy();
    }
  }, 60_000);

  it('moves a request that keeps failing to the DLQ after maxReceiveCount, with its attempts and last error', async () => {
    const submitted = await api('POST', '/v1/requests', {
      body: { type: 'demo.fail', payload: { message: 'upstream down' } },
      headers: { 'idempotency-key': 'e2e-fail-1' },
    });
    const id = submitted.body!.id;
    const maxAttempts = queues.requests.retry.maxAttempts;

    const failed = await eventually(async () => {
      const polled = await api('GET', `/v1/requests/${id}`);
      return polled.body?.status === 'failed' ? polled.body : undefined;
    }, 30_000);
    expect(failed.attempts).toBe(maxAttempts);
    expect(failed.error).toMatchObject({ code: 'demo_failure', retryable: true, message: expect.stringContaining('upstream down') });

    const sqs = new SQSClient({ endpoint: runtime.endpoints.sqs });
    try {
      const dlq = runtime.resources.queues.requests.deadLetterUrl;
      const message = await eventually(async () => {
        const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq, WaitTimeSeconds: 1, VisibilityTimeout: 0 }));
        return Messages?.find((m) => JSON.parse(m.Body!).requestId === id);
      }, 20_000);
      expect(message).toBeDefined();
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: runtime.resources.queues.requests.url, AttributeNames: ['ApproximateNumberOfMessages'] }),
      );
      expect(Attributes?.ApproximateNumberOfMessages).toBe('0');
    } finally {
      sqs.destroy();
    }
  });

  it('refuses a request without an API key, or with an unknown one, with a 401 problem', async () => {
    const missing = await fetch(`${runtime.url}/v1/requests/req_x`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    const unknown = await apiClient(runtime, 'hrld_not_a_real_key_at_all_000000')('GET', '/v1/requests/req_x');
    expect(unknown.status).toBe(401);
    expect(unknown.body!.detail).toMatch(/unknown or has been revoked/);
  });
});
