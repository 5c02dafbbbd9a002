import {
  endpointDisabledEmail,
  endpointDisabledSms,
  fitsOneSms,
  gsm7Length,
  operationsFailedSms,
  requestEmail,
  requestSms,
  SMS_MAX_GSM7_LENGTH,
} from '../../../../lambdas/core/notifications/notification-templates';
import { maskEmail, maskPhoneNumber, scrubReason } from '../../../../lambdas/core/notifications/notification-view';

const request = {
  id: 'req_01jabcdefghjkmnpqrstvwxyz0',
  type: 'order.process',
  status: 'succeeded' as const,
  payload: { card: '4111111111111111', secret: 'do-not-send' },
  result: { total: 42 },
};

describe('SMS templates', () => {
  it('name only the request id, its type and its status', () => {
    const text = requestSms(request);
    expect(text).toBe('Herald: request req_01jabcdefghjkmnpqrstvwxyz0 (order.process) succeeded.');
    expect(text).not.toContain('4111');
    expect(text).not.toContain('42');
  });

  it.each([
    ['an ordinary type', 'order.process'],
    ['a very long type', 'x'.repeat(400)],
    ['a type with characters outside GSM-7', 'заказ.обработка'.repeat(10)],
    ['a type full of two-septet characters', '{}[]€'.repeat(60)],
  ])('stay within one 160-character GSM-7 segment for %s', (_label, type) => {
    for (const status of ['succeeded', 'failed'] as const) {
      for (const text of [requestSms({ ...request, type, status }), operationsFailedSms({ ...request, type, status })]) {
        expect(gsm7Length(text)).toBeDefined();
        expect(gsm7Length(text)!).toBeLessThanOrEqual(SMS_MAX_GSM7_LENGTH);
      }
    }
  });

  it('keep the disabled-endpoint SMS within one segment', () => {
    expect(fitsOneSms(endpointDisabledSms({ endpointId: 'ep_01jabcdefghjkmnpqrstvwxyz0' }))).toBe(true);
    expect(fitsOneSms(endpointDisabledSms({ endpointId: 'e'.repeat(300) }))).toBe(true);
  });

  it('counts extension characters as two septets and rejects characters GSM-7 lacks', () => {
    expect(gsm7Length('Done €5')).toBe(8);
    expect(gsm7Length('naïve ✓')).toBeUndefined();
    expect(fitsOneSms('a'.repeat(161))).toBe(false);
  });
});

describe('the request email, which any merchant may send to an address that confirmed once', () => {
  it('carries nothing a merchant wrote: no payload, result, error message or merchant name', () => {
    const marker = 'Click https://phish.example/login now';
    const email = requestEmail({
      id: 'req_01hx0000000000000000000000',
      type: 'order.process',
      status: 'failed',
      updatedAt: '2026-03-10T12:00:00.000Z',
      error: { code: 'order_limit_exceeded', message: marker, retryable: false },
      ...({ merchantId: 'mer_other', payload: { note: marker }, result: { note: marker } } as object),
    });

    expect(`${email.subject}\n${email.text}`).not.toMatch(/phish|mer_other/);
    expect(email.text).toBe(
      [
        'Your request req_01hx0000000000000000000000 (order.process) failed at 2026-03-10T12:00:00.000Z.',
        '',
        'Reason: order_limit_exceeded',
        '',
        'You receive this message because your address was given when the request was made.',
      ].join('\n'),
    );
  });
});

describe('the disabled-endpoint email', () => {
  it('says which endpoint, why, the last errors and how to re-enable it', () => {
    const email = endpointDisabledEmail({
      merchantId: 'mer_1',
      endpointId: 'ep_1',
      url: 'https://hooks.example.com/herald',
      reason: '5 consecutive deliveries failed',
      disabledAt: '2026-01-02T03:04:05.000Z',
      lastErrors: ['HTTP 500', 'timeout'],
    });
    expect(email.subject).toContain('ep_1');
    expect(email.text).toContain('https://hooks.example.com/herald');
    expect(email.text).toContain('Reason: 5 consecutive deliveries failed');
    expect(email.text).toContain('- timeout');
    expect(email.text).toContain('PATCH /v1/webhooks/ep_1');
  });
});

describe('masking', () => {
  it('keeps the last four digits of a phone number and the domain of an address', () => {
    expect(maskPhoneNumber('+15555550123')).toBe('+*******0123');
    expect(maskEmail('ada@example.com')).toBe('a***@example.com');
  });

  it('scrubs numbers and addresses out of error texts', () => {
    const reason = scrubReason('Invalid parameter: PhoneNumber Reason: +15555550123 is not valid for ada@example.com');
    expect(reason).not.toContain('5555550123');
    expect(reason).not.toContain('ada@');
    expect(reason).toContain('+*******0123');
  });
});
