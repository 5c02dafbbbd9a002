/** What the merchants subdomain needs from outside: a way to tell a merchant about their account. */

/** Why an endpoint stopped receiving webhooks: what the webhook worker tells and the merchant's notice says. */
export interface EndpointDisabledNotice {
  readonly merchantId: string;
  readonly endpointId: string;
  readonly url: string;
  readonly reason: string;
  /** When it was disabled: one notice per disabling. */
  readonly disabledAt: string;
  /** The last errors of the endpoint's latest deliveries, added on the way to the merchant. */
  readonly lastErrors?: readonly string[];
}

/**
 * Tells a merchant about their account (`webhook.endpoint_disabled` today). Delivery never waits
 * on it and never fails because of it: a notice that cannot be sent is logged.
 */
export interface MerchantNotifier {
  endpointDisabled(notice: EndpointDisabledNotice): Promise<void>;
}
