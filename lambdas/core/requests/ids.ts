import { NotFoundError } from '../shared/errors';
import { parseDeliveryId } from '../webhooks/delivery';

/**
 * The shapes of the ids Herald hands out, checked before anything looks one up: an id that
 * cannot exist is answered at once (a 404, like an unknown one), and never reaches DynamoDB,
 * which refuses keys over 2 KB with an error rather than "not found".
 */
export const REQUEST_ID_PATTERN = /^req_[0-9a-z]{26}$/;
export const ENDPOINT_ID_PATTERN = /^ep_[0-9a-z]{26}$/;

/** Throws the 404 an unknown request gets when `id` is not a request id at all. */
export function assertRequestId(id: string): void {
  if (!REQUEST_ID_PATTERN.test(id)) throw new NotFoundError(`No request ${shown(id)} exists for this merchant (request ids are req_ and 26 characters)`);
}

/** Throws the 404 an unknown webhook endpoint gets when `id` is not an endpoint id at all. */
export function assertEndpointId(id: string): void {
  if (!ENDPOINT_ID_PATTERN.test(id)) {
    throw new NotFoundError(`No webhook endpoint ${shown(id)} exists for this merchant (endpoint ids are ep_ and 26 characters)`);
  }
}

/** Throws the 404 an unknown delivery gets when `id` is not a delivery id at all. */
export function assertDeliveryId(id: string): void {
  if (id.length > 200 || !parseDeliveryId(id)) throw new NotFoundError(`No delivery ${shown(id)} exists for this merchant`);
}

/** An id as a problem's detail may repeat it: bounded, and printable. */
function shown(id: string): string {
  const printable = JSON.stringify(id.length > 64 ? `${id.slice(0, 64)}…` : id);
  return printable;
}
