// Imported first by a benchmark that measures log volume: the logger and metrics read these when
// their modules load. INFO is the stack's default log level (HeraldStack's `logLevel`), and EMF
// metrics are on as deployed, since their lines are ingested and billed like any other.
process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
process.env.POWERTOOLS_TRACE_ENABLED = 'false';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
