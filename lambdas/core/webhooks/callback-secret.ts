import { CallbackSecretMissingError, type CallbackSecrets } from './callbacks';
import { ConflictError } from '../shared/errors';
import { generateSigningSecret, SECRET_PREFIX } from './endpoint';

/**
 * A merchant's callback signing secret, managed like an endpoint's: shown once (when it is
 * created, and when it is rotated), never again; a rotation keeps the previous secret signing
 * beside the new one for the same overlap as an endpoint's rotation.
 */

export type CreateCallbackSecretOutcome = 'created' | 'exists';

export interface CallbackSecretStore {
  /** A consistent read, secrets included: what the API shows and rotates. */
  get(merchantId: string): Promise<CallbackSecrets | undefined>;
  /** A read that may be a few seconds old: what deliveries sign with. */
  getCached(merchantId: string): Promise<CallbackSecrets | undefined>;
  /** Whether the merchant has a callback secret, answered without reading it (submit may not). */
  exists(merchantId: string): Promise<boolean>;
  /** Stores the merchant's first callback secret; `exists` when another call stored one first. */
  create(secrets: CallbackSecrets): Promise<CreateCallbackSecretOutcome>;
  /** Replaces the secrets if nobody changed them since `expectedVersion`; false when someone did. */
  replace(secrets: CallbackSecrets, expectedVersion: number): Promise<boolean>;
}

/** What a merchant sees of its callback secret: the secret itself only in the answer that made it. */
export interface CallbackSecretView {
  /** `whsec_…` and the secret's last four characters: enough to tell which secret a receiver holds. */
  readonly secretHint: string;
  readonly createdAt: string;
  /** Set while the rotated-out secret still signs beside the current one. */
  readonly previousSecretExpiresAt?: string;
  readonly secret?: string;
}

export interface CallbackSecretDependencies {
  readonly secrets: CallbackSecretStore;
  /** How long a rotated-out secret keeps signing (the endpoints' `previousSecretHours`). */
  readonly previousSecretHours: number;
  readonly now?: () => Date;
}

const HINT_CHARS = 4;

/** The hint of a secret: its prefix and its last characters, never enough to sign with. */
export function secretHintOf(secret: string): string {
  return `${SECRET_PREFIX}…${secret.slice(-HINT_CHARS)}`;
}

export function presentCallbackSecret(secrets: CallbackSecrets, now: Date, options: { withSecret?: boolean } = {}): CallbackSecretView {
  const previous = secrets.previousSecret;
  const previousActive = previous?.expiresAt !== undefined && previous.expiresAt > now.toISOString();
  return {
    secretHint: secretHintOf(secrets.secret.secret),
    createdAt: secrets.secret.createdAt,
    ...(previousActive ? { previousSecretExpiresAt: previous.expiresAt } : {}),
    ...(options.withSecret ? { secret: secrets.secret.secret } : {}),
  };
}

const clock = (deps: { now?: () => Date }) => (deps.now ?? (() => new Date()))();

export const callbackSecret = {
  /**
   * The merchant's callback secret: created on the first call and shown in that answer only
   * (`created: true`); every later call shows its hint. Of two concurrent first calls one creates
   * it and shows it; the other gets the hint, as if it came second.
   */
  async show(deps: CallbackSecretDependencies, merchantId: string): Promise<{ readonly created: boolean; readonly view: CallbackSecretView }> {
    const now = clock(deps);
    const existing = await deps.secrets.get(merchantId);
    if (existing) return { created: false, view: presentCallbackSecret(existing, now) };
    const at = now.toISOString();
    const made: CallbackSecrets = { merchantId, secret: { secret: generateSigningSecret(), createdAt: at }, version: 1, createdAt: at, updatedAt: at };
    if ((await deps.secrets.create(made)) === 'created') return { created: true, view: presentCallbackSecret(made, now, { withSecret: true }) };
    const winner = await deps.secrets.get(merchantId);
    if (!winner) throw new ConflictError('The callback secret changed while it was created; call again');
    return { created: false, view: presentCallbackSecret(winner, now) };
  },

  /** A new secret, shown in this answer only; the previous one keeps signing next to it for `previousSecretHours`. */
  async rotate(deps: CallbackSecretDependencies, merchantId: string): Promise<CallbackSecretView> {
    const current = await deps.secrets.get(merchantId);
    if (!current) throw new CallbackSecretMissingError('there is nothing to rotate before that');
    const now = clock(deps);
    const at = now.toISOString();
    const expiresAt = new Date(now.getTime() + deps.previousSecretHours * 3_600_000).toISOString();
    const next: CallbackSecrets = {
      ...current,
      secret: { secret: generateSigningSecret(), createdAt: at },
      previousSecret: { secret: current.secret.secret, createdAt: current.secret.createdAt, expiresAt },
      version: current.version + 1,
      updatedAt: at,
    };
    if (!(await deps.secrets.replace(next, current.version))) throw new ConflictError('The callback secret was rotated by another call meanwhile; read it again');
    return presentCallbackSecret(next, now, { withSecret: true });
  },
};
