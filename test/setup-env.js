// Tests never reach AWS: dummy credentials and region, Powertools in dev mode (no metric flush, no tracing).
process.env.AWS_REGION ??= 'eu-west-1';
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.POWERTOOLS_DEV ??= 'true';
process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
process.env.POWERTOOLS_METRICS_NAMESPACE ??= 'SphereConnectorTest';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
