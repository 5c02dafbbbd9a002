/** Environment variables through which handlers learn their resources; nothing else differs between AWS and local. */
export const ENV = {
  tableName: 'HERALD_TABLE_NAME',
  /** The webhook signing secrets' table; set only for the functions granted `secrets`. */
  secretsTableName: 'HERALD_SECRETS_TABLE_NAME',
  requestsQueueUrl: 'HERALD_REQUESTS_QUEUE_URL',
  /** The requests queue's slow lane; set only for its consumer. Unset: nothing is handed to a slow lane. */
  requestsSlowLaneQueueUrl: 'HERALD_REQUESTS_SLOW_LANE_QUEUE_URL',
  notificationsTopicArn: 'HERALD_NOTIFICATIONS_TOPIC_ARN',
  retryScale: 'HERALD_RETRY_SCALE',
  /** The key of the HMAC that derives a request's id from (merchant, idempotency key); never changed once requests exist. */
  requestIdKey: 'HERALD_REQUEST_ID_KEY',
  requestRetentionDays: 'HERALD_REQUEST_RETENTION_DAYS',
  /** The bucket of payloads and results too large to keep in the table; set only for the functions granted `bodies`. */
  bodiesBucket: 'HERALD_BODIES_BUCKET',
  /** Sender id on SMS notifications, where the destination country supports one (stack prop `smsSenderId`). */
  smsSenderId: 'HERALD_SMS_SENDER_ID',
  /** Local runtime only: SMS go to this outbox instead of SNS. The stack never sets it. */
  smsOutboxUrl: 'HERALD_SMS_OUTBOX_URL',
  /** The From address of request emails sent directly with SES (stack prop `emailSenderIdentity`); unset: they go through the topic. */
  emailFromAddress: 'HERALD_EMAIL_FROM_ADDRESS',
  /** Local runtime only: direct emails go to this outbox instead of SES. The stack never sets it. */
  emailOutboxUrl: 'HERALD_EMAIL_OUTBOX_URL',
  /** Seconds an `accepted` request may sit without an enqueue mark before the sweeper re-enqueues it. */
  sweepUnenqueuedAfterSeconds: 'HERALD_SWEEP_UNENQUEUED_AFTER_SECONDS',
  /** Seconds after which an enqueue mark is distrusted and the request is re-enqueued anyway. */
  sweepStaleEnqueueAfterSeconds: 'HERALD_SWEEP_STALE_ENQUEUE_AFTER_SECONDS',
  deliveriesQueueUrl: 'HERALD_DELIVERIES_QUEUE_URL',
  /** The API's public base URL, from which thin webhook events link to their request (the stack sets the HTTP API's URL). */
  publicApiUrl: 'HERALD_PUBLIC_API_URL',
  /** Comma-separated exact hosts webhooks may target; when set, every other host is refused (https and public addresses still required). */
  allowedWebhookHosts: 'HERALD_ALLOWED_WEBHOOK_HOSTS',
  /** Local runtime only: comma-separated hosts of receivers on this machine, allowed plain http and loopback addresses. The stack refuses it. */
  localWebhookHosts: 'HERALD_LOCAL_WEBHOOK_HOSTS',
  /** `true` registers the demo processors (demo.sleep, demo.fail); anything else leaves them out. The stack writes `false` unless told otherwise. */
  demoProcessors: 'HERALD_DEMO_PROCESSORS',
  /** ISO 3166 alpha-2 codes SMS may go to, comma-separated; empty: no SMS; `*` (local runtime only): every country. */
  smsAllowedCountries: 'HERALD_SMS_ALLOWED_COUNTRIES',
  /** Per-merchant quotas (stack props `maxRequestsInFlight`, `maxSmsPerDay`); unset: no quota (the local runtime's default). */
  maxRequestsInFlight: 'HERALD_MAX_REQUESTS_IN_FLIGHT',
  maxSmsPerDay: 'HERALD_MAX_SMS_PER_DAY',
  /**
   * The public base URL clients reach Herald at (stack output `PublicBaseUrl`: the front door's URL,
   * or the stack prop `publicBaseUrl`); `statusUrl` is built on it, never on request headers.
   * The local runtime sets its own address unless told otherwise.
   */
  publicBaseUrl: 'HERALD_PUBLIC_BASE_URL',
  /** Local runtime only: requests per API key per `merchantRateLimit.windowSeconds`; unset, no limit. On AWS the WAF rule counts. */
  merchantRateLimit: 'HERALD_MERCHANT_RATE_LIMIT',
  /** Consecutive dead deliveries after which an endpoint is disabled. */
  webhookDeadStreakLimit: 'HERALD_WEBHOOK_DEAD_STREAK_LIMIT',
  /** Overrides of a queue's retry schedule (stack props `requestRetry`, `deliveryRetry`): delays as comma-separated seconds. */
  requestRetryDelays: 'HERALD_REQUEST_RETRY_DELAYS',
  requestMaxAttempts: 'HERALD_REQUEST_MAX_ATTEMPTS',
  deliveryRetryDelays: 'HERALD_DELIVERY_RETRY_DELAYS',
  deliveryMaxAttempts: 'HERALD_DELIVERY_MAX_ATTEMPTS',
  /** Consecutive timeouts or 5xx that open an endpoint's circuit; 0 turns the breaker off (tests of the plain retry path). */
  circuitFailureThreshold: 'HERALD_CIRCUIT_FAILURE_THRESHOLD',
} as const;
