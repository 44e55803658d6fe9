locals {
  lambda_package_dir = coalesce(var.lambda_package_dir, "${path.root}/../../../dist/lambda")

  lambda_s3_packages = var.lambda_artifacts == null ? {} : {
    for name, version in var.lambda_artifacts.versions : name => {
      bucket  = var.lambda_artifacts.bucket
      key     = "${var.lambda_artifacts.key_prefix}${name}.zip"
      version = version
    }
  }
}

module "websocket" {
  source = "../../modules/websocket-service"

  name               = var.name
  stage_name         = "staging"
  lambda_package_dir = var.lambda_artifacts == null ? local.lambda_package_dir : null
  lambda_s3_packages = local.lambda_s3_packages
  lambda_memory_size = 256
  tracing_mode       = var.tracing_mode
  log_level          = "INFO"

  # staging: logs kept 30 days, table protected, alarms on.
  log_retention_in_days          = 30
  deletion_protection_enabled    = true
  point_in_time_recovery_enabled = true
  create_alarms                  = true
  create_alarm_topic             = true
  alarm_email_addresses          = var.alarm_email_addresses

  reserved_concurrent_executions = {
    message    = var.reserved_concurrency.message
    connect    = var.reserved_concurrency.connect
    authorizer = var.reserved_concurrency.authorizer
  }

  throttling_burst_limit = 500
  throttling_rate_limit  = 1000

  # staging: the same limits and retention as prod, so what passes here passes there.
  rate_limits = var.rate_limits
  history     = var.history

  # Big topics: the account's @connections quota (set what AWS granted) and the fan-out tuning.
  management_quota = var.management_quota
  fanout           = var.fanout

  # The HTTP API: history and publish over HTTPS (the polling fallback, and backends with IAM).
  http_api = {
    cors_allow_origins     = var.http_api_cors_allow_origins
    throttling_burst_limit = 200
    throttling_rate_limit  = 100
  }

  jwks_uri                 = var.jwks_uri
  jwt_issuer               = var.jwt_issuer
  jwt_audience             = var.jwt_audience
  token_sources            = var.token_sources
  public_topic_prefixes    = var.public_topic_prefixes
  max_connections_per_user = var.max_connections_per_user

  domain_name    = var.domain_name
  hosted_zone_id = var.hosted_zone_id

  broadcaster = {
    enabled          = var.broadcaster_enabled
    source_type      = var.broadcaster_source_type
    event_source_arn = var.broadcaster_event_source_arn
  }
}
