import { Webhook } from 'standardwebhooks';
import { retryAfterSeconds, retryDelaySeconds } from '../../../../lambdas/core/webhooks/retry-timing';
import { signatureHeaders } from '../../../../lambdas/core/webhooks/webhook-attempt';
import { activeSecrets, generateSigningSecret, type WebhookEndpoint } from '../../../../lambdas/core/webhooks/endpoint';
import { deliveryIdOf, parseDeliveryId } from '../../../../lambdas/core/webhooks/delivery';
import { webhookRetrySchedule } from '../../../../lambdas/settings/retry';

describe('delivery ids', () => {
  it('derive from request, endpoint and event type, and lead back to them', () => {
    const id = deliveryIdOf('req_01jabc', 'ep_01jdef', 'request.failed');
    expect(id).toBe(deliveryIdOf('req_01jabc', 'ep_01jdef', 'request.failed'));
    expect(id).not.toBe(deliveryIdOf('req_01jabc', 'ep_01jdef', 'request.succeeded'));
    expect(parseDeliveryId(id)).toEqual({ subjectId: 'req_01jabc', endpointId: 'ep_01jdef', eventType: 'request.failed' });
  });

  it.each(['', 'dlv_', 'dlv_a.b', 'dlv_a.b.exploded', 'req_1.ep_1.failed', 'dlv_a/b.c.failed'])('refuse %p', (id) => {
    expect(parseDeliveryId(id)).toBeUndefined();
  });
});

describe('the webhook schedule', () => {
  it('makes 8 attempts over about 27 hours', () => {
    const total = webhookRetrySchedule.delaysSeconds.reduce((sum, d) => sum + d, 0);
    expect(webhookRetrySchedule.maxAttempts).toBe(8);
    expect(total / 3600).toBeGreaterThan(26);
    expect(total / 3600).toBeLessThan(29);
  });

  it('keeps each delay within ±20 % of its nominal value', () => {
    const deps = { schedule: webhookRetrySchedule, retryScale: 1 };
    expect(retryDelaySeconds({ ...deps, random: () => 0 }, 3, { latencyMs: 1, status: 500 })).toBe(1440);
    expect(retryDelaySeconds({ ...deps, random: () => 1 }, 3, { latencyMs: 1, status: 500 })).toBe(2160);
  });

  it('honours Retry-After on 429 and 503 within [delay, 2 × delay] only', () => {
    const deps = { schedule: webhookRetrySchedule, retryScale: 1, random: () => 0.5 };
    const delay = 300;
    expect(retryDelaySeconds(deps, 2, { latencyMs: 1, status: 429, retryAfter: '400' })).toBe(400);
    expect(retryDelaySeconds(deps, 2, { latencyMs: 1, status: 503, retryAfter: '100000' })).toBe(2 * delay);
    expect(retryDelaySeconds(deps, 2, { latencyMs: 1, status: 429, retryAfter: '1' })).toBe(delay);
    expect(retryDelaySeconds(deps, 2, { latencyMs: 1, status: 500, retryAfter: '400' })).toBe(delay);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterSeconds('120', now)).toBe(120);
    expect(retryAfterSeconds('Thu, 01 Jan 2026 00:01:30 GMT', now)).toBe(90);
    expect(retryAfterSeconds('soon', now)).toBeUndefined();
  });
});

describe('signatures', () => {
  const body = JSON.stringify({ type: 'request.succeeded', data: { id: 'req_1' } });

  it('verify with the standardwebhooks package', () => {
    const secret = generateSigningSecret();
    const headers = signatureHeaders([secret], 'dlv_x.y.succeeded', new Date(), body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateSigningSecret()).verify(body, headers)).toThrow();
  });

  it('carry one signature per active secret, so either verifies during a rotation', () => {
    const [current, previous] = [generateSigningSecret(), generateSigningSecret()];
    const headers = signatureHeaders([current, previous], 'dlv_x.y.succeeded', new Date(), body);
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(() => new Webhook(current).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(previous).verify(body, headers)).not.toThrow();
  });

  it('stop using the previous secret once it expires', () => {
    const now = new Date('2026-01-02T00:00:00Z');
    const endpoint = {
      secret: { secret: 'whsec_new', createdAt: '2026-01-01T00:00:00Z' },
      previousSecret: { secret: 'whsec_old', createdAt: '2025-12-01T00:00:00Z', expiresAt: '2026-01-02T00:00:01Z' },
    } as WebhookEndpoint;
    expect(activeSecrets(endpoint, now)).toEqual(['whsec_new', 'whsec_old']);
    expect(activeSecrets(endpoint, new Date('2026-01-02T00:00:02Z'))).toEqual(['whsec_new']);
  });
});
