// Runs before every test file: keep logs quiet and the SDK from warning about this Node version.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
// No EMF lines on stdout and no X-Ray segments: tests run outside Lambda.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
// As the local runtime runs: demo processors on, SMS to any country (nothing leaves the machine).
process.env.HERALD_DEMO_PROCESSORS ??= 'true';
process.env.HERALD_SMS_ALLOWED_COUNTRIES ??= '*';
