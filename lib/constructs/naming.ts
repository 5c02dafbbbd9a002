/**
 * How names from lib/topology.ts become construct ids, environment variable names and output
 * names, so a queue or topic added to the topology gets them without an edit to the stack.
 */

/** `requests` → `Requests`, `deadLetters` → `DeadLetters`: construct ids and output names. */
export function pascalCase(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** `requests` → `REQUESTS`, `webhookDeliveries` → `WEBHOOK_DELIVERIES`: environment variable segments. */
export function upperSnakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}
