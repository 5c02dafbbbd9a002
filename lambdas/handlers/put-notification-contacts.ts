import { setOperationsContacts } from '../core/notifications/operations-contacts';
import { validateOperationsContacts } from '../core/notifications/notify-targets';
import { notifierDependencies, settings } from './shared/dependencies';
import { httpRoute, json, jsonBodyOf, merchantIdOf } from './shared/http';

const MAX_BODY_BYTES = 4 * 1024;

/**
 * PUT /v1/notifications: sets the merchant's operations contacts (email and/or SMS) and the
 * events they want; `webhook.endpoint_disabled` is always included. A new address gets a
 * confirmation mail from SNS first.
 */
export const handler = httpRoute(async (event) => {
  const merchantId = merchantIdOf(event);
  const input = validateOperationsContacts(jsonBodyOf(event, MAX_BODY_BYTES), settings.smsCountries());
  const view = await setOperationsContacts(notifierDependencies(), merchantId, input);
  return json(200, view);
});
