import type { HeraldRequest } from './request';

/**
 * Operator redrives. A message moved back from a dead-letter queue points at a request that
 * ended `failed` because its attempts ran out. The redrive command records that a redrive of the
 * queue began (a generation number) before it moves anything; a request that fails by exhaustion
 * records the generation it failed under, and the worker reopens it only when the latest
 * generation is newer than that one and than the one that last reopened it. So a redrive reopens
 * each request once however many copies of its message arrive, a stray duplicate that arrives
 * with no redrive behind it reopens nothing, and a redrive that ran before the failure never
 * makes it reopen by itself. On AWS, where `StartMessageMoveTask` moves
 * messages without the command seeing them, this is how the request learns it was redriven.
 */
export interface RedriveLog {
  /** How many redrives of `queue` have begun; 0 when none has. */
  generation(queue: string): Promise<number>;
  /** Records that a redrive of `queue` begins now and returns its generation. */
  begin(queue: string, now?: Date): Promise<number>;
}

/** Failed because its attempts ran out (the error was transient), not because it was refused. */
export function failedByExhaustion(request: Pick<HeraldRequest, 'status' | 'error'>): boolean {
  return request.status === 'failed' && request.error?.retryable === true;
}

/** Whether a redrive that has reached `generation` should reopen this request: only one begun after it failed. */
export function shouldReopen(
  request: Pick<HeraldRequest, 'status' | 'error' | 'redriveGeneration' | 'failedAtRedrive'>,
  generation: number,
): boolean {
  return failedByExhaustion(request) && generation > Math.max(request.redriveGeneration ?? 0, request.failedAtRedrive ?? 0);
}
