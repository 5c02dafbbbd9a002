/** A merchant: the tenant that owns requests, API keys and webhook endpoints. */
export interface Merchant {
  readonly id: string;
  readonly name: string;
  readonly email?: string;
  readonly createdAt: string;
}

/** The stored form of an API key: its digest, never the key. */
export interface ApiKeyRecord {
  readonly keyHash: string;
  readonly keyId: string;
  readonly merchantId: string;
  /** The first characters of the key, enough for an operator to tell keys apart in a listing. */
  readonly hint: string;
  readonly createdAt: string;
  readonly revokedAt?: string;
}
