import { deliveryLines } from '../../../lib/cli/requests';
import type { Delivery } from '../../../lambdas/core/webhooks/delivery';

const delivery: Delivery = {
  id: 'dlv_req_1.ep_1.succeeded',
  merchantId: 'mer_1',
  endpointId: 'ep_1',
  subjectId: 'req_1',
  eventType: 'request.succeeded',
  eventTimestamp: '2026-03-10T12:00:00Z',
  state: 'pending',
  round: 1,
  nextAttemptAt: '2026-03-10T12:01:00Z',
  attempts: [
    { at: '2026-03-10T12:00:01Z', attempt: 1, status: 503, latencyMs: 40 },
    { at: '2026-03-10T12:00:30Z', attempt: 2, error: 'circuit_open', errorMessage: 'not sent: the endpoint failed 3 times in a row; rescheduled after 30 s', latencyMs: 0 },
  ],
  createdAt: '2026-03-10T12:00:01Z',
  updatedAt: '2026-03-10T12:00:30Z',
};

describe('herald requests show, deliveries', () => {
  it('prints each attempt, a skip by an open circuit with its reason', () => {
    expect(deliveryLines([delivery])).toEqual([
      '  deliveries',
      '    ep_1  request.succeeded  pending  round 1  next 2026-03-10T12:01:00Z',
      '      2026-03-10T12:00:01Z  #1  HTTP 503  40 ms',
      '      2026-03-10T12:00:30Z  #2  circuit_open  0 ms  not sent: the endpoint failed 3 times in a row; rescheduled after 30 s',
    ]);
  });

  it('prints nothing for a request without deliveries', () => {
    expect(deliveryLines([])).toEqual([]);
  });
});
