/**
 * JSON data as the DynamoDB marshaller reads it without guessing. The marshaller picks an
 * attribute type from a value's `constructor.name`, and on a plain object that is whatever the
 * object's own member named `constructor` says: `{"constructor":{"name":"String"}}` would be
 * stored as the string "[object Object]", `…"Set"` or `…"Map"` would throw. A `Map` has no
 * members, only entries, so its constructor is always `Map`, which the marshaller writes as an
 * M attribute: the same map a plain object would have made, readable by every reader as before.
 */
export type DocumentValue = null | boolean | number | string | DocumentValue[] | Map<string, DocumentValue>;

/**
 * A JSON value (a payload or result as parsed or produced) with every object turned into a
 * `Map` of its own enumerable members, recursively; arrays and scalars stay as they are, and so
 * does an instance of a class (a processor's result may hold one), which the marshaller refuses
 * as it always did. Depth is bounded by the body checks (32 levels) and by DynamoDB for
 * results, so recursion is safe here.
 *
 * @example marshall({ data: asDocumentValue({ constructor: { name: 'String' } }) }) // data: { M: { constructor: { M: { name: { S: 'String' } } } } }
 */
export function asDocumentValue(value: unknown): DocumentValue {
  if (Array.isArray(value)) return value.map(asDocumentValue);
  if (isPlainObject(value)) {
    return new Map(Object.entries(value).filter(([, member]) => member !== undefined).map(([name, member]) => [name, asDocumentValue(member)]));
  }
  return value as DocumentValue;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}
