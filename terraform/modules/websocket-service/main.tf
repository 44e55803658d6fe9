data "aws_partition" "current" {
  # The wiring manifests and the protocol are files, which variable validation cannot read
  # on Terraform < 1.9: the checks that need them fail the plan here instead.
  lifecycle {
    precondition {
      condition     = length(local.unknown_settings) == 0
      error_message = "Unknown setting in a wiring manifest: ${join("; ", [for problem in local.unknown_settings : "${problem.manifest} maps ${problem.variable} to \"${problem.setting}\""])}. Settings are the keys of local.settings in ${path.module}/main.tf; add a module variable and a line there (see the module README, \"Adding a setting\")."
    }

    precondition {
      condition     = length(local.route_keys) == length(distinct(local.route_keys))
      error_message = "Two wiring manifests (or a manifest and application_routes) claim the same route key: ${join(", ", distinct([for key in local.route_keys : key if length([for other in local.route_keys : other if other == key]) > 1]))}. Each route goes to one function."
    }

    precondition {
      condition     = length(local.http_route_keys) == length(distinct(local.http_route_keys))
      error_message = "Two httpRoutes entries of the wiring manifests claim the same HTTP route: ${join(", ", distinct([for key in local.http_route_keys : key if length([for other in local.http_route_keys : other if other == key]) > 1]))}. Each route goes to one function."
    }

    precondition {
      condition     = length(local.http_route_problems) == 0
      error_message = "Wiring manifest httpRoutes: ${join("; ", local.http_route_problems)}."
    }

    precondition {
      condition     = length(local.index_arns) > 0 || length(flatten([for wiring in values(local.wiring) : try(wiring.permissions.dynamodbIndexes, [])])) == 0
      error_message = "A wiring manifest lists dynamodbIndexes actions (${join(", ", [for name, wiring in local.wiring : name if length(try(wiring.permissions.dynamodbIndexes, [])) > 0])}), but the table has no secondary index (terraform/modules/connections-table/table.json): grant the action on the table (dynamodb) or declare the index."
    }

    precondition {
      condition     = length(local.authorizer_functions) == 1
      error_message = "Exactly one wiring manifest under ${local.lambda_dir} must say \"authorizer\": true; found: [${join(", ", local.authorizer_functions)}]."
    }

    precondition {
      condition     = length(local.bad_permissions) == 0
      error_message = "Wiring manifest permissions must name actions (letters only, never \"*\"), manageConnections methods POST, GET or DELETE, and fanOutQueue actions SendMessage: ${join("; ", local.bad_permissions)}."
    }

    precondition {
      condition     = length(local.unsupported_algorithms) == 0
      error_message = "jwt_algorithms: ${join(", ", local.unsupported_algorithms)} not accepted. The authorizer verifies exactly these (protocol/protocol.json jwtAlgorithms): ${join(", ", local.protocol.jwtAlgorithms)}; \"none\", HS* and EdDSA are refused."
    }

    precondition {
      condition     = length(local.public_prefix_problems) == 0
      error_message = "public_topic_prefixes: ${join("; ", local.public_prefix_problems)}."
    }

    precondition {
      condition     = length(local.application_route_problems) == 0
      error_message = "application_routes: ${join("; ", local.application_route_problems)}."
    }

    precondition {
      condition     = length(local.unknown_function_keys) == 0
      error_message = "${join("; ", local.unknown_function_keys)}: functions are the wiring manifests under ${local.lambda_dir} (${join(", ", keys(local.wiring))})."
    }

    precondition {
      condition     = length(local.packages_missing) == 0
      error_message = "No package for ${join(", ", local.packages_missing)}: set lambda_package_dir (the directory ./build.sh writes dist/lambda/<name>.zip into), lambda_packages, or lambda_s3_packages."
    }

    precondition {
      condition     = length(setintersection(keys(var.broadcaster.environment_variables), keys(try(local.wiring.broadcaster.environment, {})))) == 0
      error_message = "broadcaster.environment_variables cannot set ${join(", ", setintersection(keys(var.broadcaster.environment_variables), keys(try(local.wiring.broadcaster.environment, {}))))}: the module sets them from the broadcaster's wiring manifest."
    }
  }
}

data "aws_region" "current" {}

locals {
  # Single sources of truth, read from the repository this module is part of. A git source
  # (git::...//terraform/modules/websocket-service?ref=vX.Y.Z) checks out the whole
  # repository, so these paths resolve there as in a clone.
  repository_root = coalesce(var.repository_root, "${path.module}/../../..")
  lambda_dir      = "${local.repository_root}/lambda"
  protocol        = jsondecode(file("${local.repository_root}/protocol/protocol.json"))

  # lambda/<name>/wiring.json: each function's routes, environment and AWS actions.
  wiring = {
    for manifest in fileset(local.lambda_dir, "*/wiring.json") :
    dirname(manifest) => jsondecode(file("${local.lambda_dir}/${manifest}"))
  }

  table_name          = coalesce(var.table_name, "${var.name}-connections")
  broadcaster_enabled = var.broadcaster.enabled
  # The fan-out queue exists when something runs its jobs: the broadcaster.
  fanout_enabled = local.broadcaster_enabled && var.fanout.enabled

  ##############################################################################
  # HTTP routes: each manifest's httpRoutes ("<METHOD> <path>" and its
  # authorization, token or iam), served by the HTTP API when http_api.enabled.
  ##############################################################################
  http_routes = merge([
    for name, wiring in local.wiring : {
      for route in try(wiring.httpRoutes, []) : try(route.key, "") => { integration = name, authorization = try(route.authorization, "") }
    }
  ]...)
  http_route_keys = flatten([for wiring in values(local.wiring) : [for route in try(wiring.httpRoutes, []) : try(route.key, "")]])
  http_route_problems = flatten([
    for name, wiring in local.wiring : [
      for route in try(wiring.httpRoutes, []) : "lambda/${name}/wiring.json: route ${jsonencode(try(route.key, null))} needs a key \"<METHOD> <path>\" and an authorization of \"token\" or \"iam\""
      if !can(regex("^[A-Z]+ /", route.key)) || !contains(["token", "iam"], try(route.authorization, ""))
    ]
  ])
  http_api_enabled = var.http_api.enabled && length(local.http_routes) > 0

  # A function serves WebSocket routes, authorizes, broadcasts, or only answers HTTP routes;
  # the last kind exists only with the HTTP API.
  http_only_functions = [
    for name, wiring in local.wiring : name
    if length(try(wiring.httpRoutes, [])) > 0 && length(try(wiring.routes, [])) == 0 && !try(wiring.protocolActionRoutes, false) && !try(wiring.authorizer, false)
  ]

  # Functions that exist: every manifest, the broadcaster only when enabled, an HTTP-only
  # function only with the HTTP API.
  created_functions = [
    for name in keys(local.wiring) : name
    if(name != "broadcaster" || local.broadcaster_enabled) && (local.http_api_enabled || !contains(local.http_only_functions, name))
  ]

  authorizer_functions = [for name, wiring in local.wiring : name if try(wiring.authorizer, false)]
  authorizer_function  = try(local.authorizer_functions[0], "authorizer")

  # Where the fan-out and handler EMF metrics go: the namespace the monitoring module alarms on.
  metric_namespace = "wskit/${var.name}"

  ##############################################################################
  # Settings: the one map every manifest's environment is resolved against
  # (ENV_VAR -> setting key). A null setting is left out of the environment.
  # Adding a setting: a module variable plus one line here.
  ##############################################################################
  settings = {
    table_name                  = module.table.table_name
    callback_url                = var.callback_url_override
    max_connections_per_user    = tostring(var.max_connections_per_user)
    max_topics_per_connection   = tostring(var.max_topics_per_connection)
    public_topic_prefixes       = length(var.public_topic_prefixes) == 0 ? null : join(",", var.public_topic_prefixes)
    metrics_namespace           = local.metric_namespace
    log_level                   = var.log_level
    jwks_uri                    = var.jwks_uri
    jwt_issuer                  = var.jwt_issuer
    jwt_audience                = join(",", var.jwt_audience)
    jwt_algorithms              = join(",", var.jwt_algorithms)
    token_sources               = join(",", var.token_sources)
    jwt_clock_tolerance_seconds = tostring(var.jwt_clock_tolerance_seconds)
    api_id                      = module.api.api_id
    stage                       = var.stage_name
    action_aliases              = length(local.action_aliases) == 0 ? null : join(",", [for route, action in local.action_aliases : "${route}=${action}"])
    frame_rate_limit            = tostring(var.rate_limits.frames_per_connection)
    publish_rate_limit          = tostring(var.rate_limits.publishes_per_user)
    rate_limit_window_seconds   = tostring(var.rate_limits.window_seconds)
    history_retention_seconds   = tostring(var.history.retention_seconds)
    history_max_messages        = tostring(var.history.max_messages)
    slot_settle_seconds         = var.slot_settle_seconds == null ? null : tostring(var.slot_settle_seconds)
    jwks_cache_max_age_seconds  = var.jwks_cache.max_age_seconds == null ? null : tostring(var.jwks_cache.max_age_seconds)
    jwks_stale_grace_seconds    = var.jwks_cache.stale_grace_seconds == null ? null : tostring(var.jwks_cache.stale_grace_seconds)
    fanout_queue_url            = local.fanout_enabled ? aws_sqs_queue.fanout[0].url : null
    fanout_queue_arn            = local.fanout_enabled ? aws_sqs_queue.fanout[0].arn : null
    inline_fanout_limit         = var.fanout.inline_limit == null ? null : tostring(var.fanout.inline_limit)
    fanout_shard_rate           = var.fanout.shard_rate == null ? null : tostring(var.fanout.shard_rate)
    fanout_quota_percent        = var.fanout.quota_percent == null ? null : tostring(var.fanout.quota_percent)
    management_quota            = var.management_quota.rate == null ? null : tostring(var.management_quota.rate)
    management_burst            = var.management_quota.burst == null ? null : tostring(var.management_quota.burst)
    # The handlers send their own subsegments (DynamoDB, SQS, the management API) only where
    # Lambda traces the invocation.
    tracing = var.tracing_mode == "Active" ? "on" : null
  }

  unknown_settings = flatten([
    for name, wiring in local.wiring : [
      for variable, setting in try(wiring.environment, {}) : {
        manifest = "lambda/${name}/wiring.json"
        variable = variable
        setting  = setting
      } if !contains(keys(local.settings), setting)
    ]
  ])

  environment = {
    for name, wiring in local.wiring : name => merge(
      name == "broadcaster" ? var.broadcaster.environment_variables : {},
      {
        for variable, setting in try(wiring.environment, {}) :
        variable => lookup(local.settings, setting, null) if lookup(local.settings, setting, null) != null
      },
    )
  }

  ##############################################################################
  # Routes: each manifest's routes, plus one per protocol action where
  # protocolActionRoutes is true, plus the application's own routes.
  ##############################################################################
  manifest_routes = merge([
    for name, wiring in local.wiring : {
      for route in concat(try(wiring.routes, []), try(wiring.protocolActionRoutes, false) ? local.protocol.actions : []) :
      route => { integration = name, two_way = try(wiring.twoWay, false) }
    }
  ]...)

  # The function that answers protocol actions: application routes that alias one go there.
  action_router = try([for name, wiring in local.wiring : name if try(wiring.protocolActionRoutes, false)][0], null)

  action_aliases = { for route, spec in var.application_routes : route => spec.action if spec.action != null }

  application_integrations = {
    for route, spec in var.application_routes : "app-${replace(route, "/[^A-Za-z0-9_-]/", "_")}" => {
      function_name = spec.function_arn
      invoke_arn    = "arn:${data.aws_partition.current.partition}:apigateway:${data.aws_region.current.id}:lambda:path/2015-03-31/functions/${spec.function_arn}/invocations"
    } if spec.function_arn != null
  }

  application_api_routes = {
    for route, spec in var.application_routes : route => {
      integration = spec.action != null ? local.action_router : "app-${replace(route, "/[^A-Za-z0-9_-]/", "_")}"
      two_way     = coalesce(spec.two_way, spec.action != null)
    }
  }

  route_keys = concat(
    flatten([for name, wiring in local.wiring : concat(try(wiring.routes, []), try(wiring.protocolActionRoutes, false) ? local.protocol.actions : [])]),
    keys(var.application_routes),
  )

  application_route_problems = concat(
    [for route in keys(var.application_routes) : "\"${route}\" is a protocol action (protocol/protocol.json): the ${coalesce(local.action_router, "message")} function already answers it" if contains(local.protocol.actions, route)],
    [for route, spec in var.application_routes : "\"${route}\" aliases \"${spec.action}\", which is not a protocol action (${join(", ", local.protocol.actions)})" if spec.action != null && !contains(local.protocol.actions, coalesce(spec.action, "-"))],
    local.action_router == null && length(local.action_aliases) > 0 ? ["no wiring manifest sets protocolActionRoutes, so no function answers aliased actions"] : [],
  )

  ##############################################################################
  # Checks of the settings against protocol/protocol.json
  ##############################################################################
  unsupported_algorithms = [for algorithm in var.jwt_algorithms : algorithm if !contains(local.protocol.jwtAlgorithms, algorithm)]

  # A public prefix covers a topic when the topic starts with it and the prefix ends at a
  # separator (or is the whole topic): "user" and anything from "user:" on would open
  # every user's private user:<sub> topic to everyone signed in.
  user_prefix = local.protocol.topic.userPrefix
  public_prefix_problems = concat(
    [for prefix in var.public_topic_prefixes : "\"${prefix}\" does not follow the topic grammar (protocol/protocol.json topic.pattern, at most ${local.protocol.topic.maxLength} visible characters, no whitespace)" if !can(regex(local.protocol.topic.pattern, prefix))],
    [for prefix in var.public_topic_prefixes : "\"${prefix}\" would cover users' own ${local.user_prefix}<sub> topics, which only their owner may use" if prefix == trimsuffix(local.user_prefix, ":") || startswith(prefix, local.user_prefix)],
  )

  ##############################################################################
  # Identity sources of the $connect authorizer
  ##############################################################################
  # API Gateway answers 401 without calling the authorizer unless every identity source is
  # present. One token source: require it (a request without it never costs an
  # invocation). Several: require none, so a client that sends any one of them reaches the
  # authorizer, which looks in each configured place and refuses a request with no token.
  derived_identity_sources = length(var.token_sources) == 1 ? [
    for source in var.token_sources :
    "route.request.${startswith(source, "query:") ? "querystring" : "header"}.${split(":", source)[1]}"
  ] : []
  identity_sources = var.authorizer_identity_sources != null ? var.authorizer_identity_sources : local.derived_identity_sources

  ##############################################################################
  # Packages: a local zip (./build.sh) or an S3 object a pipeline uploaded
  ##############################################################################
  packages = {
    for name in keys(local.wiring) : name => {
      path              = contains(keys(var.lambda_s3_packages), name) ? null : lookup(var.lambda_packages, name, var.lambda_package_dir == null ? null : "${var.lambda_package_dir}/${name}.zip")
      s3_bucket         = try(var.lambda_s3_packages[name].bucket, null)
      s3_key            = try(var.lambda_s3_packages[name].key, null)
      s3_object_version = try(var.lambda_s3_packages[name].version, null)
      source_code_hash  = try(var.lambda_s3_packages[name].source_code_hash, null)
    }
  }
  unknown_function_keys = flatten([
    for input, names in {
      lambda_packages                = keys(var.lambda_packages)
      lambda_s3_packages             = keys(var.lambda_s3_packages)
      reserved_concurrent_executions = keys(var.reserved_concurrent_executions)
      additional_policy_statements   = keys(var.additional_policy_statements)
    } : [for name in names : "${input} names \"${name}\"" if !contains(keys(local.wiring), name)]
  ])
  packages_missing = [for name in local.created_functions : name if local.packages[name].path == null && local.packages[name].s3_bucket == null]

  ##############################################################################
  # IAM: each manifest's permissions, scoped to the table, its indexes and this
  # stage's @connections; a statement only for a non-empty list.
  ##############################################################################
  table_arn       = module.table.table_arn
  index_arns      = values(module.table.index_arns)
  connection_arns = module.api.manage_connections_arns

  bad_permissions = flatten([
    for name, wiring in local.wiring : concat(
      [for action in concat(try(wiring.permissions.dynamodb, []), try(wiring.permissions.dynamodbIndexes, [])) : "lambda/${name}/wiring.json: dynamodb action \"${action}\"" if !can(regex("^[A-Za-z]+$", action))],
      [for method in try(wiring.permissions.manageConnections, []) : "lambda/${name}/wiring.json: manageConnections method \"${method}\"" if !contains(["POST", "GET", "DELETE"], method)],
      [for action in try(wiring.permissions.fanOutQueue, []) : "lambda/${name}/wiring.json: fanOutQueue action \"${action}\"" if !contains(["SendMessage"], action)],
    )
  ])

  policy_statements = {
    for name, wiring in local.wiring : name => merge(
      length(try(wiring.permissions.dynamodb, [])) == 0 ? {} : {
        Table = {
          actions   = [for action in wiring.permissions.dynamodb : "dynamodb:${action}"]
          resources = [local.table_arn]
        }
      },
      # No index, no statement: a manifest that asks for one fails the plan (a precondition above).
      length(try(wiring.permissions.dynamodbIndexes, [])) == 0 || length(local.index_arns) == 0 ? {} : {
        TableIndexes = {
          actions   = [for action in wiring.permissions.dynamodbIndexes : "dynamodb:${action}"]
          resources = local.index_arns
        }
      },
      # Shard jobs go to the fan-out queue only; without it the function fans out inline.
      length(try(wiring.permissions.fanOutQueue, [])) == 0 || !local.fanout_enabled ? {} : {
        FanOutQueue = {
          actions   = [for action in wiring.permissions.fanOutQueue : "sqs:${action}"]
          resources = [aws_sqs_queue.fanout[0].arn]
        }
      },
      length(try(wiring.permissions.manageConnections, [])) == 0 ? {} : {
        ManageConnections = {
          actions   = ["execute-api:ManageConnections"]
          resources = [for method in wiring.permissions.manageConnections : local.connection_arns[method] if contains(["POST", "GET", "DELETE"], method)]
        }
      },
    )
  }

  # DynamoDB operations the functions call: the throttle and error alarms watch these.
  table_operations = sort(distinct(flatten([
    for name, wiring in local.wiring : concat(try(wiring.permissions.dynamodb, []), try(wiring.permissions.dynamodbIndexes, []))
  ])))

  functions = {
    for name, wiring in local.wiring : name => {
      description = try(wiring.description, "wskit ${name}")
      memory_size = name == "broadcaster" ? var.broadcaster.memory_size : var.lambda_memory_size
      timeout     = name == "broadcaster" ? var.broadcaster.timeout : var.lambda_timeout
    }
  }

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

  create                         = contains(local.created_functions, each.key)
  function_name                  = "${var.name}-${each.key}"
  description                    = each.value.description
  package_path                   = local.packages[each.key].path
  s3_bucket                      = local.packages[each.key].s3_bucket
  s3_key                         = local.packages[each.key].s3_key
  s3_object_version              = local.packages[each.key].s3_object_version
  source_code_hash               = local.packages[each.key].source_code_hash
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

  integrations = merge(
    {
      for name in distinct([for route in values(local.manifest_routes) : route.integration]) : name => {
        function_name = module.functions[name].function_name
        invoke_arn    = module.functions[name].invoke_arn
      }
    },
    local.application_integrations,
  )

  routes = merge(local.manifest_routes, local.application_api_routes)

  authorizer = {
    name             = "${var.name}-jwt"
    function_name    = module.functions[local.authorizer_function].function_name
    invoke_arn       = module.functions[local.authorizer_function].invoke_arn
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

module "http_api" {
  source = "../http-api"

  create     = local.http_api_enabled
  name       = "${var.name}-http"
  stage_name = var.stage_name

  integrations = {
    for name in distinct([for route in values(local.http_routes) : route.integration]) : name => {
      function_name = module.functions[name].function_name
      invoke_arn    = module.functions[name].invoke_arn
    }
  }

  routes = local.http_routes

  # The same function as $connect's: it answers payload 2.0 requests with simple responses,
  # reading the token from the Authorization header (Bearer).
  authorizer = {
    name               = "${var.name}-http-jwt"
    function_name      = module.functions[local.authorizer_function].function_name
    invoke_arn         = module.functions[local.authorizer_function].invoke_arn
    result_ttl_seconds = var.http_api.authorizer_result_ttl_seconds
  }

  cors = {
    allow_origins   = var.http_api.cors_allow_origins
    max_age_seconds = var.http_api.cors_max_age_seconds
  }

  throttling_burst_limit       = var.http_api.throttling_burst_limit
  throttling_rate_limit        = var.http_api.throttling_rate_limit
  detailed_metrics_enabled     = var.api_detailed_metrics_enabled
  access_log_retention_in_days = var.log_retention_in_days
  access_log_kms_key_arn       = var.logs_kms_key_arn

  tags = var.tags
}

module "broadcaster" {
  source = "../broadcaster"

  create                                  = local.broadcaster_enabled
  name                                    = "${var.name}-broadcast"
  function_name                           = coalesce(try(module.functions["broadcaster"].function_name, null), "${var.name}-broadcaster")
  function_role_name                      = try(module.functions["broadcaster"].role_name, null)
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
    id                         = module.api.api_id
    stage                      = var.stage_name
    execution_error_threshold  = var.alarm_thresholds.api_execution_errors
    integration_latency_p99_ms = var.alarm_thresholds.integration_latency_p99_ms
  }

  # Every function emits Faults (its catch-all caught an unexpected error) with
  # Service = wskit-<function>. Lambda Errors of the authorizer are its refusals (it throws
  # Unauthorized, the only way to answer 401), so they are charted, not alarmed.
  function_names = {
    for name in local.created_functions : name => module.functions[name].function_name
  }
  error_alarm_excluded_functions = [local.authorizer_function]
  function_error_threshold       = var.alarm_thresholds.function_errors
  function_throttle_threshold    = var.alarm_thresholds.function_throttles
  fault_threshold                = var.alarm_thresholds.faults

  authorizer = {
    service                    = "wskit-${local.authorizer_function}"
    jwks_unavailable_threshold = var.alarm_thresholds.jwks_unavailable
  }

  refusals = {
    services              = ["wskit-${local.authorizer_function}", "wskit-connect"]
    threshold             = var.alarm_thresholds.refusals
    rate_limited_services = [for name in distinct(concat([coalesce(local.action_router, "message")], [for route in values(local.http_routes) : route.integration])) : "wskit-${name}" if contains(local.created_functions, name)]
  }

  http_api = local.http_api_enabled ? {
    id                     = module.http_api.api_id
    stage                  = var.stage_name
    server_error_threshold = var.alarm_thresholds.http_api_server_errors
    latency_p99_ms         = var.alarm_thresholds.http_api_latency_p99_ms
  } : null

  # The message router writes what clients report (the report action).
  client_health = local.action_router == null ? null : {
    service                    = "wskit-${local.action_router}"
    reconnects_per_report      = var.alarm_thresholds.client_reconnects_per_report
    failed_connects_per_report = var.alarm_thresholds.client_failed_connects_per_report
    rtt_p95_ms                 = var.alarm_thresholds.client_rtt_p95_ms
    rtt_statistic              = var.alarm_thresholds.client_rtt_statistic
    min_reports                = var.alarm_thresholds.client_min_reports
  }

  connections = {
    connect_service     = "wskit-connect"
    disconnect_function = try(module.functions["disconnect"].function_name, null)
  }

  table = {
    name                   = local.table_name
    operations             = local.table_operations
    throttle_threshold     = var.alarm_thresholds.dynamodb_throttles
    system_error_threshold = var.alarm_thresholds.dynamodb_system_errors
  }

  stream = local.broadcaster_enabled && var.broadcaster.source_type == "dynamodb" ? {
    function_name = module.functions["broadcaster"].function_name
    threshold_ms  = var.alarm_thresholds.iterator_age_ms
  } : null

  fan_out = {
    services                  = [for name in distinct(concat(["message", "broadcaster"], [for route in values(local.http_routes) : route.integration])) : "wskit-${name}" if contains(local.created_functions, name)]
    failed_delivery_threshold = var.alarm_thresholds.failed_deliveries
    throttled_threshold       = var.alarm_thresholds.management_api_throttles
    duration_p99_ms           = var.alarm_thresholds.fan_out_duration_p99_ms
  }

  failure_queues = merge(
    local.broadcaster_enabled ? { broadcaster = module.broadcaster.failure_queue_name } : {},
    local.fanout_enabled ? { fanout = aws_sqs_queue.fanout_dead[0].name } : {},
  )

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
