import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { sqsClient } from '../../lambdas/adapters/aws-clients';
import { PermanentError, RetryableError, type Processor } from '../../lambdas/core/requests/processor';
import { registerProcessor } from '../../lambdas/processors/registry';

/**
 * What the chaos run (`npm run chaos`) needs inside the runtime, and nothing a deployment has:
 * a processor whose effects land in the run's ledger, and switches for faults. The runtime
 * turns these on only when it is started with `chaos` options.
 */
export interface ChaosOptions {
  /** Base URL of the run's effect ledger (an HTTP server of the chaos driver). */
  readonly ledgerUrl: string;
}

export interface ChaosFaults {
  /** `POST /local/faults {"refuseRequestSendsMs": 3000}`: the requests queue refuses sends that long. */
  route(request: IncomingMessage): Promise<{ status: number; body: unknown }>;
}

export const CHAOS_REQUEST_TYPE = 'chaos.effect';

const chaosPayload = z.strictObject({
  /** The client's operation (its idempotency key): the ledger notices two requests doing one operation. */
  operation: z.string().min(1).max(255),
  steps: z.number().int().min(1).max(5),
  /** Attempts that fail transiently, counted from the first of the round. */
  transientFailures: z.number().int().min(0).max(10).default(0),
  /** Whether those failures come after the steps' effects (a retry must then find them done). */
  failAfterEffects: z.boolean().default(false),
  permanent: z.boolean().default(false),
  workMs: z.number().int().min(0).max(2_000).default(0),
});
type ChaosPayload = z.infer<typeof chaosPayload>;

/**
 * Registers the chaos processor and installs the fault hooks; returns the route that switches
 * the faults. Safe to call again in one process (tests restart runtimes): both are replaced.
 */
export function enableChaos(options: ChaosOptions, requestsQueueUrl: string): ChaosFaults {
  registerProcessor(chaosEffectProcessor(options.ledgerUrl));
  let refuseUntil = 0;
  sqsClient().middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { QueueUrl?: string };
      const sending = context.commandName === 'SendMessageCommand' || context.commandName === 'SendMessageBatchCommand';
      if (sending && input.QueueUrl === requestsQueueUrl && Date.now() < refuseUntil) {
        throw Object.assign(new Error('The requests queue refuses sends (chaos fault)'), { name: 'ServiceUnavailable', $fault: 'server' });
      }
      return next(args);
    },
    { step: 'initialize', name: 'heraldChaosRefuseSends', override: true },
  );
  return {
    async route(request) {
      if (request.method !== 'POST') return { status: 405, body: { message: 'POST a fault' } };
      const body = JSON.parse((await readText(request)) || '{}') as { refuseRequestSendsMs?: unknown };
      const ms = Number(body.refuseRequestSendsMs ?? 0);
      if (!Number.isFinite(ms) || ms < 0 || ms > 60_000) return { status: 400, body: { message: 'refuseRequestSendsMs is 0 to 60000' } };
      refuseUntil = Date.now() + ms;
      return { status: 200, body: { refusingRequestSendsUntil: new Date(refuseUntil).toISOString() } };
    },
  };
}

/**
 * Runs `steps` effects, each recorded in the ledger under (request, step). Like any processor
 * with an outside effect it checks before it acts, and relies on the lease for "nobody else acts
 * meanwhile"; the ledger records every act, so a broken lease or a lost claim shows there as a
 * (request, step) recorded twice. Its failures are set by the payload, so a seeded run repeats.
 */
export function chaosEffectProcessor(ledgerUrl: string): Processor<ChaosPayload, { operation: string; steps: number }> {
  return {
    type: CHAOS_REQUEST_TYPE,
    timeoutMs: 5_000,
    expectedSeconds: 1,
    schema: chaosPayload,
    async run(payload, { requestId, attempt, signal, recordStep }) {
      if (payload.permanent) throw new PermanentError('The chaos run refuses this request for good', 'chaos_permanent');
      const failing = attempt <= payload.transientFailures;
      if (failing && !payload.failAfterEffects) throw new RetryableError(`Chaos: transient failure before the effects (attempt ${attempt})`, 'chaos_transient');
      for (let step = 1; step <= payload.steps; step++) {
        const key = `${encodeURIComponent(requestId)}/${step}`;
        const seen = await fetch(`${ledgerUrl}/effects/${key}`, { signal });
        if (seen.status !== 200 && seen.status !== 404) throw new RetryableError(`Ledger answered ${seen.status}`, 'ledger_unavailable');
        if (seen.status === 404) {
          const applied = await fetch(`${ledgerUrl}/effects/${key}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ operation: payload.operation, attempt }),
            signal,
          });
          if (!applied.ok) throw new RetryableError(`Ledger answered ${applied.status}`, 'ledger_unavailable');
          recordStep(`effect-${step}`);
        }
        if (payload.workMs) await sleep(payload.workMs / payload.steps, undefined, { signal });
      }
      if (failing) throw new RetryableError(`Chaos: transient failure after the effects (attempt ${attempt})`, 'chaos_transient');
      return { operation: payload.operation, steps: payload.steps };
    },
  };
}

async function readText(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > 4096) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
