locals {
  table_name          = coalesce(var.table_name, "${var.name}-connections")
  broadcaster_enabled = var.broadcaster.enabled

  packages = {
    for function in ["connect", "disconnect", "message", "authorizer", "broadcaster"] :
    function => lookup(var.lambda_packages, function, "${var.lambda_package_dir}/${function}.zip")
  }

  # route.request.querystring.token for query:token, route.request.header.Authorization for header:Authorization.
  identity_sources = coalesce(var.authorizer_identity_sources, [
    for source in var.token_sources :
    "route.request.${startswith(source, "query:") ? "querystring" : "header"}.${split(":", source)[1]}"
  ])

  callback_environment = var.callback_url_override == null ? {} : { WSKIT_CALLBACK_URL = var.callback_url_override }

  # Where the fan-out EMF metrics go: the namespace the monitoring module alarms on.
  metric_namespace = "wskit/${var.name}"

  # The variables each function reads (see the handler READMEs).
  environment = {
    connect = merge({
      WSKIT_TABLE_NAME               = module.table.table_name
      WSKIT_MAX_CONNECTIONS_PER_USER = tostring(var.max_connections_per_user)
      WSKIT_LOG_LEVEL                = var.log_level
    }, local.callback_environment)
    disconnect = {
      WSKIT_TABLE_NAME = module.table.table_name
      WSKIT_LOG_LEVEL  = var.log_level
    }
    message = merge({
      WSKIT_TABLE_NAME            = module.table.table_name
      WSKIT_PUBLIC_TOPIC_PREFIXES = join(",", var.public_topic_prefixes)
      WSKIT_METRICS_NAMESPACE     = local.metric_namespace
      WSKIT_LOG_LEVEL             = var.log_level
    }, local.callback_environment)
    authorizer = {
      WSKIT_JWKS_URI       = var.jwks_uri
      WSKIT_JWT_ISSUER     = var.jwt_issuer
      WSKIT_JWT_AUDIENCE   = join(",", var.jwt_audience)
      WSKIT_JWT_ALGORITHMS = join(",", var.jwt_algorithms)
      WSKIT_TOKEN_SOURCES  = join(",", var.token_sources)
      WSKIT_LOG_LEVEL      = var.log_level
    }
    broadcaster = merge(var.broadcaster.environment_variables, {
      WSKIT_TABLE_NAME        = module.table.table_name
      WSKIT_API_ID            = module.api.api_id
      WSKIT_STAGE             = var.stage_name
      WSKIT_METRICS_NAMESPACE = local.metric_namespace
      WSKIT_LOG_LEVEL         = var.log_level
    }, local.callback_environment)
  }

  table_arn       = module.table.table_arn
  index_arns      = values(module.table.index_arns)
  connection_arns = module.api.manage_connections_arns

  # Least privilege per function: the table (and its byUser index) and this stage's @connections.
  policy_statements = {
    connect = {
      # At the per-user cap, connect asks API Gateway which of the user's connections still
      # exist (GET) and removes the rows (and subscriptions) a lost $disconnect left behind.
      WriteConnection = {
        actions   = ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"]
        resources = [local.table_arn]
      }
      CountUserConnections = {
        actions   = ["dynamodb:Query"]
        resources = local.index_arns
      }
      CheckStaleConnections = {
        actions   = ["execute-api:ManageConnections"]
        resources = [local.connection_arns.GET]
      }
    }
    disconnect = {
      RemoveConnection = {
        actions   = ["dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"]
        resources = [local.table_arn]
      }
    }
    message = {
      ManageSubscriptions = {
        actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:Query"]
        resources = [local.table_arn]
      }
      FindUserConnections = {
        actions   = ["dynamodb:Query"]
        resources = local.index_arns
      }
      PostToConnections = {
        actions   = ["execute-api:ManageConnections"]
        resources = [local.connection_arns.POST, local.connection_arns.GET, local.connection_arns.DELETE]
      }
    }
    authorizer = {}
    broadcaster = {
      FindSubscribers = {
        actions   = ["dynamodb:Query", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"]
        resources = [local.table_arn]
      }
      FindUserConnections = {
        actions   = ["dynamodb:Query"]
        resources = local.index_arns
      }
      PostToConnections = {
        actions   = ["execute-api:ManageConnections"]
        resources = [local.connection_arns.POST, local.connection_arns.DELETE]
      }
    }
  }

  functions = {
    connect     = { description = "wskit $connect: registers the connection", memory_size = var.lambda_memory_size, timeout = var.lambda_timeout }
    disconnect  = { description = "wskit $disconnect: removes the connection and its subscriptions", memory_size = var.lambda_memory_size, timeout = var.lambda_timeout }
    message     = { description = "wskit message routes: hello, ping, subscribe, unsubscribe, publish", memory_size = var.lambda_memory_size, timeout = var.lambda_timeout }
    authorizer  = { description = "wskit $connect authorizer: verifies the JWT against the JWKS", memory_size = var.lambda_memory_size, timeout = var.lambda_timeout }
    broadcaster = { description = "wskit broadcaster: fans stream and queue records out to topic subscribers", memory_size = var.broadcaster.memory_size, timeout = var.broadcaster.timeout }
  }

  message_routes = ["$default", "hello", "ping", "subscribe", "unsubscribe", "publish", "sendmessage"]

  custom_domain      = var.domain_name != null
  create_certificate = local.custom_domain && var.certificate_arn == null
}

module "table" {
  source = "../connections-table"

  name                           = local.table_name
  billing_mode                   = var.table_billing_mode
  point_in_time_recovery_enabled = var.point_in_time_recovery_enabled
  deletion_protection_enabled    = var.deletion_protection_enabled
  kms_key_arn                    = var.table_kms_key_arn

  tags = var.tags
}

module "functions" {
  source   = "../lambda-function"
  for_each = local.functions

  create                         = each.key != "broadcaster" || local.broadcaster_enabled
  function_name                  = "${var.name}-${each.key}"
  description                    = each.value.description
  package_path                   = local.packages[each.key]
  runtime                        = var.lambda_runtime
  architecture                   = var.lambda_architecture
  memory_size                    = each.value.memory_size
  timeout                        = each.value.timeout
  environment_variables          = local.environment[each.key]
  policy_statements              = merge(local.policy_statements[each.key], lookup(var.additional_policy_statements, each.key, {}))
  reserved_concurrent_executions = lookup(var.reserved_concurrent_executions, each.key, -1)
  tracing_mode                   = var.tracing_mode
  log_retention_in_days          = var.log_retention_in_days
  log_kms_key_arn                = var.logs_kms_key_arn

  tags = var.tags
}

module "api" {
  source = "../websocket-api"

  name       = var.name
  stage_name = var.stage_name

  integrations = {
    for function in ["connect", "disconnect", "message"] : function => {
      function_name = module.functions[function].function_name
      invoke_arn    = module.functions[function].invoke_arn
    }
  }

  routes = merge(
    {
      "$connect"    = { integration = "connect" }
      "$disconnect" = { integration = "disconnect" }
    },
    { for route in local.message_routes : route => { integration = "message", two_way = true } },
  )

  authorizer = {
    name             = "${var.name}-jwt"
    function_name    = module.functions["authorizer"].function_name
    invoke_arn       = module.functions["authorizer"].invoke_arn
    identity_sources = local.identity_sources
  }

  throttling_burst_limit         = var.throttling_burst_limit
  throttling_rate_limit          = var.throttling_rate_limit
  detailed_metrics_enabled       = var.api_detailed_metrics_enabled
  logging_level                  = var.api_logging_level
  access_log_retention_in_days   = var.log_retention_in_days
  access_log_kms_key_arn         = var.logs_kms_key_arn
  create_account_cloudwatch_role = var.manage_api_gateway_account

  tags = var.tags
}

module "broadcaster" {
  source = "../broadcaster"

  create                                  = local.broadcaster_enabled
  name                                    = "${var.name}-broadcast"
  function_name                           = coalesce(module.functions["broadcaster"].function_name, "${var.name}-broadcaster")
  function_role_name                      = module.functions["broadcaster"].role_name
  source_type                             = var.broadcaster.source_type
  event_source_arn                        = var.broadcaster.event_source_arn
  batch_size                              = var.broadcaster.batch_size
  maximum_batching_window_in_seconds      = var.broadcaster.maximum_batching_window_in_seconds
  starting_position                       = var.broadcaster.starting_position
  bisect_batch_on_function_error          = var.broadcaster.bisect_batch_on_function_error
  maximum_retry_attempts                  = var.broadcaster.maximum_retry_attempts
  maximum_record_age_in_seconds           = var.broadcaster.maximum_record_age_in_seconds
  parallelization_factor                  = var.broadcaster.parallelization_factor
  maximum_concurrency                     = var.broadcaster.maximum_concurrency
  filter_patterns                         = var.broadcaster.filter_patterns
  source_queue_visibility_timeout_seconds = max(6 * var.broadcaster.timeout, 30)

  tags = var.tags
}

module "monitoring" {
  source = "../monitoring"

  create           = var.create_alarms || var.create_dashboard
  create_alarms    = var.create_alarms
  name             = var.name
  metric_namespace = local.metric_namespace

  api = {
    id                          = module.api.api_id
    stage                       = var.stage_name
    execution_error_threshold   = var.alarm_thresholds.api_execution_errors
    integration_error_threshold = var.alarm_thresholds.api_integration_errors
  }

  function_names = {
    for key, function in module.functions : key => function.function_name
    if key != "broadcaster" || local.broadcaster_enabled
  }
  function_error_threshold    = var.alarm_thresholds.function_errors
  function_throttle_threshold = var.alarm_thresholds.function_throttles

  authorizer_denials = {
    log_group_name = module.functions["authorizer"].log_group_name
    threshold      = var.alarm_thresholds.authorizer_denials
  }

  stream = local.broadcaster_enabled && var.broadcaster.source_type == "dynamodb" ? {
    function_name = module.functions["broadcaster"].function_name
    threshold_ms  = var.alarm_thresholds.iterator_age_ms
  } : null

  fan_out = {
    services                  = local.broadcaster_enabled ? ["wskit-message", "wskit-broadcaster"] : ["wskit-message"]
    failed_delivery_threshold = var.alarm_thresholds.failed_deliveries
  }

  failure_queues = local.broadcaster_enabled ? { broadcaster = module.broadcaster.failure_queue_name } : {}

  create_sns_topic      = var.create_alarm_topic && var.alarm_sns_topic_arn == null
  sns_topic_arn         = var.alarm_sns_topic_arn
  alarm_email_addresses = var.alarm_email_addresses
  create_dashboard      = var.create_dashboard

  tags = var.tags
}

################################################################################
# Custom domain (optional)
################################################################################

resource "aws_acm_certificate" "this" {
  count = local.create_certificate ? 1 : 0

  domain_name       = var.domain_name
  validation_method = "DNS"

  tags = var.tags

  lifecycle {
    create_before_destroy = true

    precondition {
      condition     = var.hosted_zone_id != null
      error_message = "Requesting a certificate for domain_name needs hosted_zone_id (for the DNS validation record), or pass certificate_arn."
    }
  }
}

resource "aws_route53_record" "certificate_validation" {
  count = local.create_certificate ? 1 : 0

  zone_id         = var.hosted_zone_id
  name            = tolist(aws_acm_certificate.this[0].domain_validation_options)[0].resource_record_name
  type            = tolist(aws_acm_certificate.this[0].domain_validation_options)[0].resource_record_type
  records         = [tolist(aws_acm_certificate.this[0].domain_validation_options)[0].resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "this" {
  count = local.create_certificate ? 1 : 0

  certificate_arn         = aws_acm_certificate.this[0].arn
  validation_record_fqdns = aws_route53_record.certificate_validation[*].fqdn
}

resource "aws_apigatewayv2_domain_name" "this" {
  count = local.custom_domain ? 1 : 0

  domain_name = var.domain_name

  domain_name_configuration {
    certificate_arn = local.create_certificate ? aws_acm_certificate_validation.this[0].certificate_arn : var.certificate_arn
    endpoint_type   = "REGIONAL"
    security_policy = "TLS_1_2"
  }

  tags = var.tags
}

resource "aws_apigatewayv2_api_mapping" "this" {
  count = local.custom_domain ? 1 : 0

  api_id      = module.api.api_id
  domain_name = aws_apigatewayv2_domain_name.this[0].id
  stage       = module.api.stage_name
}

resource "aws_route53_record" "this" {
  count = local.custom_domain && var.hosted_zone_id != null ? 1 : 0

  zone_id = var.hosted_zone_id
  name    = var.domain_name
  type    = "A"

  alias {
    name                   = aws_apigatewayv2_domain_name.this[0].domain_name_configuration[0].target_domain_name
    zone_id                = aws_apigatewayv2_domain_name.this[0].domain_name_configuration[0].hosted_zone_id
    evaluate_target_health = false
  }
}
