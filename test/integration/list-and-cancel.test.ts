import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { provisionForTest } from '../support/endpoints';
import { apiEvent, invoke } from '../support/api-events';
import { encodeCursor } from '../../lambdas/core/requests/list-requests';
import { keys } from '../../lambdas/adapters/dynamo/keys';

let handlers: { submit: unknown; status: unknown; list: unknown; cancel: unknown };
let tableName: string;
let dynamo: DynamoDBDocumentClient;

beforeAll(async () => {
  const resources = await provisionForTest('list');
  tableName = resources.tableName;
  dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: resources.endpoints.dynamodb }));
  handlers = {
    submit: (await import('../../lambdas/handlers/submit-request')).handler,
    status: (await import('../../lambdas/handlers/get-request-status')).handler,
    list: (await import('../../lambdas/handlers/list-requests')).handler,
    cancel: (await import('../../lambdas/handlers/cancel-request')).handler,
  };
});

afterAll(() => dynamo.destroy());

const submit = (key: string, merchantId: string, payload: Record<string, unknown> = {}) =>
  invoke(
    handlers.submit,
    apiEvent({ method: 'POST', path: '/v1/requests', headers: { 'idempotency-key': key }, body: { type: 'demo.sleep', payload }, merchantId }),
  );

const list = (merchantId: string, query: Record<string, string> = {}) => {
  const event = apiEvent({ method: 'GET', path: '/v1/requests', merchantId });
  const rawQueryString = new URLSearchParams(query).toString();
  return invoke(handlers.list, { ...event, rawQueryString, ...(rawQueryString ? { queryStringParameters: query } : {}) });
};

const cancel = (id: string, merchantId: string) =>
  invoke(
    handlers.cancel,
    apiEvent({ method: 'POST', path: `/v1/requests/${id}/cancel`, routeKey: 'POST /v1/requests/{id}/cancel', pathParameters: { id }, merchantId }),
  );

const status = (id: string, merchantId: string) =>
  invoke(
    handlers.status,
    apiEvent({ method: 'GET', path: `/v1/requests/${id}`, routeKey: 'GET /v1/requests/{id}', pathParameters: { id }, merchantId }),
  );

/** Moves a request to `processing` as a worker's claim would, without running one. */
async function markProcessing(id: string): Promise<void> {
  await dynamo.send(
    new UpdateCommand({
      TableName: tableName,
      Key: keys.request(id),
      UpdateExpression: 'SET #s = :p, version = version + :one, attempts = :one',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':p': 'processing', ':one': 1 },
    }),
  );
}

describe('GET /v1/requests', () => {
  const merchant = 'mer_lister';
  const ids: string[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 7; i++) {
      const response = await submit(`list-${i}`, merchant, { i });
      ids.push(response.body!.id);
    }
    await submit('list-other', 'mer_someone_else');
  });

  it('lists the merchant’s requests newest first, page by page, each exactly once', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await list(merchant, { limit: '3', ...(cursor ? { cursor } : {}) });
      expect(page.status).toBe(200);
      expect(page.body!.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.body!.items.map((item: { id: string }) => item.id));
      cursor = page.body!.nextCursor;
      if (cursor) expect(page.body!.links.next).toContain(`cursor=${cursor}`);
      pages++;
    } while (cursor && pages < 10);

    expect(seen).toEqual([...ids].reverse());
    expect(pages).toBe(3);
  });

  it('shows summaries with links, not payloads', async () => {
    const page = await list(merchant, { limit: '1' });
    expect(page.body!.items[0]).toEqual({
      id: ids[ids.length - 1],
      type: 'demo.sleep',
      status: 'accepted',
      attempts: 0,
      links: { self: `/v1/requests/${ids[ids.length - 1]}`, cancel: `/v1/requests/${ids[ids.length - 1]}/cancel` },
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
  });

  it('filters by status', async () => {
    await cancel(ids[2]!, merchant);
    const cancelled = await list(merchant, { status: 'cancelled' });
    expect(cancelled.body!.items.map((item: { id: string }) => item.id)).toEqual([ids[2]]);
    const accepted = await list(merchant, { status: 'accepted', limit: '100' });
    expect(accepted.body!.items).toHaveLength(6);
    expect(accepted.body!.nextCursor).toBeUndefined();
  });

  it('never shows another merchant’s requests, whatever the cursor', async () => {
    const page = await list('mer_someone_else');
    expect(page.body!.items).toHaveLength(1);
    expect(ids).not.toContain(page.body!.items[0].id);
    // A cursor only says where to continue; the merchant always comes from the API key.
    const foreignCursor = encodeCursor({ createdAt: '9999-01-01T00:00:00.000Z', id: ids[0]! });
    const continued = await list('mer_someone_else', { cursor: foreignCursor });
    expect(continued.body!.items.map((item: { id: string }) => item.id)).not.toEqual(expect.arrayContaining([ids[0]]));
    expect(continued.body!.items).toHaveLength(1);
  });

  it.each([
    [{ limit: '101' }, '/limit'],
    [{ limit: '0' }, '/limit'],
    [{ limit: 'ten' }, '/limit'],
    [{ status: 'lost' }, '/status'],
    [{ cursor: 'not-a-cursor' }, '/cursor'],
    [{ sort: 'asc' }, '/sort'],
  ])('answers 400 naming the bad parameter for %j', async (query, path) => {
    const response = await list(merchant, query as Record<string, string>);
    expect(response.status).toBe(400);
    expect(response.headers['Content-Type']).toBe('application/problem+json');
    expect(response.body!.errors).toEqual([expect.objectContaining({ path })]);
  });
});

describe('POST /v1/requests/{id}/cancel', () => {
  it('cancels an accepted request and says so in its history and links', async () => {
    const { body } = await submit('cancel-1', 'mer_a');
    const response = await cancel(body!.id, 'mer_a');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: body!.id, status: 'cancelled', links: { self: `/v1/requests/${body!.id}` } });
    expect(response.body!.links.cancel).toBeUndefined();
    expect(response.body!.history.map((h: { to: string }) => h.to)).toEqual(['accepted', 'cancelled']);
    expect((await status(body!.id, 'mer_a')).body!.status).toBe('cancelled');
  });

  it('answers 409 with the current status once the request is no longer accepted', async () => {
    const { body } = await submit('cancel-2', 'mer_a');
    await cancel(body!.id, 'mer_a');
    const again = await cancel(body!.id, 'mer_a');
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ type: expect.stringMatching(/request-not-cancellable$/), currentStatus: 'cancelled' });

    const started = await submit('cancel-3', 'mer_a');
    await markProcessing(started.body!.id);
    const busy = await cancel(started.body!.id, 'mer_a');
    expect(busy.status).toBe(409);
    expect(busy.body).toMatchObject({ currentStatus: 'processing', attempts: 1 });
  });

  it('answers 409 with the status and attempts for a request waiting for a retry, and leaves it waiting', async () => {
    const { body } = await submit('cancel-4', 'mer_a');
    await dynamo.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keys.request(body!.id),
        UpdateExpression: 'SET attempts = :two, version = version + :one',
        ExpressionAttributeValues: { ':two': 2, ':one': 1 },
      }),
    );
    const response = await cancel(body!.id, 'mer_a');
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ type: expect.stringMatching(/request-not-cancellable$/), currentStatus: 'accepted', attempts: 2 });
    expect(response.body!.detail).toMatch(/an attempt has already started/);
    const after = await status(body!.id, 'mer_a');
    expect(after.body).toMatchObject({ status: 'accepted', attempts: 2 });
    expect(after.body!.links.cancel).toBeUndefined();
  });

  it("answers 404 for another merchant's request and leaves it alone", async () => {
    const { body } = await submit('cancel-5', 'mer_a');
    const foreign = await cancel(body!.id, 'mer_b');
    const unknown = await cancel('req_00000000000000000000000000', 'mer_b');
    expect(foreign.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(foreign.body!.detail).toBe(`No request ${body!.id} exists for this merchant`);
    expect((await status(body!.id, 'mer_a')).body!.status).toBe('accepted');
  });

  it('leaves a cancelled request alone when its message reaches the worker', async () => {
    const { body } = await submit('cancel-6', 'mer_a');
    await cancel(body!.id, 'mer_a');
    const { handler } = await import('../../lambdas/handlers/process-requests');
    const result = await handler(
      {
        Records: [
          {
            messageId: 'm-1',
            receiptHandle: 'r-1',
            body: JSON.stringify({ requestId: body!.id, merchantId: 'mer_a', type: 'demo.sleep' }),
            attributes: { ApproximateReceiveCount: '1' },
            messageAttributes: {},
          },
        ],
      } as never,
      { getRemainingTimeInMillis: () => 60_000 } as never,
    );
    expect(result.batchItemFailures).toEqual([]);
    const after = await status(body!.id, 'mer_a');
    expect(after.body).toMatchObject({ status: 'cancelled', attempts: 0 });
  });
});

describe('GET /v1/requests/{id} links and deliveries', () => {
  it('links to itself and to cancel while accepted, and carries an empty delivery summary', async () => {
    const { body } = await submit('links-1', 'mer_a');
    const response = await status(body!.id, 'mer_a');
    expect(response.body!.links).toEqual({ self: `/v1/requests/${body!.id}`, cancel: `/v1/requests/${body!.id}/cancel` });
    expect(response.body!.deliveries).toEqual({ total: 0, pending: 0, delivered: 0, failed: 0 });
  });
});
