import type { CallbackSecretStore, CreateCallbackSecretOutcome } from '../../../../lambdas/core/webhooks/callback-secret';
import type { CallbackSecrets } from '../../../../lambdas/core/webhooks/callbacks';
import { copy } from '../requests/in-memory-ports';

/** Callback secrets in memory, with the table's conditions: created once per merchant, replaced only at the version read. */
export class InMemoryCallbackSecretStore implements CallbackSecretStore {
  private readonly secrets = new Map<string, CallbackSecrets>();

  async get(merchantId: string): Promise<CallbackSecrets | undefined> {
    const stored = this.secrets.get(merchantId);
    return stored && copy(stored);
  }

  getCached(merchantId: string): Promise<CallbackSecrets | undefined> {
    return this.get(merchantId);
  }

  async exists(merchantId: string): Promise<boolean> {
    return this.secrets.has(merchantId);
  }

  async create(secrets: CallbackSecrets): Promise<CreateCallbackSecretOutcome> {
    if (this.secrets.has(secrets.merchantId)) return 'exists';
    this.secrets.set(secrets.merchantId, copy(secrets));
    return 'created';
  }

  async replace(secrets: CallbackSecrets, expectedVersion: number): Promise<boolean> {
    if (this.secrets.get(secrets.merchantId)?.version !== expectedVersion) return false;
    this.secrets.set(secrets.merchantId, copy(secrets));
    return true;
  }
}
