import { SESv2Client } from '@aws-sdk/client-sesv2';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SesEmailSender } from '../../lambdas/adapters/ses-email-sender';
import { NotificationRejectedError } from '../../lambdas/core/notifications/notification-errors';

/**
 * No SES emulator runs locally, so a loopback server plays the SES v2 API's part: the real SDK
 * signs and sends the real REST call to it, and it answers as SES documents (a JSON body, or an
 * error named in `x-amzn-ErrorType`).
 */
interface Call {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: any;
}
let server: Server;
let calls: Call[];
let answer: { status: number; errorType?: string; body: unknown };
let client: SESv2Client;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      calls.push({ method: req.method!, path: req.url!, headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') });
      res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.errorType ? { 'x-amzn-errortype': answer.errorType } : {}) });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = new SESv2Client({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
});

beforeEach(() => {
  calls = [];
  answer = { status: 200, body: { MessageId: 'message-1' } };
});

afterAll(async () => {
  client.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const email = { subject: 'Request req_1 succeeded', text: 'Your request succeeded.' };

it('sends one SendEmail call from the sender to the one recipient, with the subject and text', async () => {
  await new SesEmailSender('receipts@shop.example', client).send({ to: 'buyer@example.com', email });
  expect(calls).toHaveLength(1);
  expect(calls[0]).toMatchObject({ method: 'POST', path: '/v2/email/outbound-emails' });
  expect(calls[0]!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=test\/\d{8}\/eu-west-1\/ses\//);
  expect(calls[0]!.body).toEqual({
    FromEmailAddress: 'receipts@shop.example',
    Destination: { ToAddresses: ['buyer@example.com'] },
    Content: { Simple: { Subject: { Data: email.subject, Charset: 'UTF-8' }, Body: { Text: { Data: email.text, Charset: 'UTF-8' } } } },
  });
});

it('records a message SES rejects as refused for good', async () => {
  answer = { status: 400, errorType: 'MessageRejected', body: { message: 'Email address is not verified.' } };
  const sent = new SesEmailSender('receipts@shop.example', client).send({ to: 'unverified@example.com', email });
  await expect(sent).rejects.toBeInstanceOf(NotificationRejectedError);
  await expect(new SesEmailSender('receipts@shop.example', client).send({ to: 'unverified@example.com', email })).rejects.toThrow(/SES refused the email: Email address is not verified/);
});

it('leaves throttling to the retry', async () => {
  answer = { status: 429, errorType: 'TooManyRequestsException', body: { message: 'Maximum sending rate exceeded.' } };
  const sent = new SesEmailSender('receipts@shop.example', client).send({ to: 'buyer@example.com', email });
  await expect(sent).rejects.toThrow(/Maximum sending rate exceeded/);
  await expect(sent).rejects.not.toBeInstanceOf(NotificationRejectedError);
});
