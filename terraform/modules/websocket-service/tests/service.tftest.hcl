mock_provider "aws" {
  mock_resource "aws_dynamodb_table" {
    defaults = {
      arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/wskit-test-connections"
    }
  }

  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      id            = "a1b2c3d4e5"
      execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
    }
  }

  mock_resource "aws_lambda_function" {
    defaults = {
      arn        = "arn:aws:lambda:eu-west-1:123456789012:function:wskit-test-fn"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:wskit-test-fn/invocations"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/wskit-test-role"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:wskit-test"
    }
  }

  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:123456789012:wskit-test-queue"
      url = "https://sqs.eu-west-1.amazonaws.com/123456789012/wskit-test-queue"
    }
  }

  mock_resource "aws_acm_certificate" {
    defaults = {
      arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0b5c8f3e-1111-2222-3333-444455556666"
      domain_validation_options = [{
        domain_name           = "ws.example.com"
        resource_record_name  = "_abc.ws.example.com."
        resource_record_type  = "CNAME"
        resource_record_value = "_xyz.acm-validations.aws."
      }]
    }
  }

  mock_data "aws_region" {
    defaults = {
      id   = "eu-west-1"
      name = "eu-west-1"
    }
  }

  mock_resource "aws_apigatewayv2_authorizer" {
    defaults = {
      id = "auth123"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }
}

variables {
  name                  = "wskit-test"
  stage_name            = "test"
  lambda_package_dir    = "tests/fixtures"
  jwks_uri              = "https://idp.example.com/.well-known/jwks.json"
  jwt_issuer            = "https://idp.example.com/"
  jwt_audience          = ["wskit", "wskit-mobile"]
  public_topic_prefixes = ["public:", "news."]
  log_retention_in_days = 14
}

run "functions_come_from_the_wiring_manifests" {
  command = apply

  variables {
    wiring   = { for name in ["authorizer", "broadcaster", "connect", "disconnect", "http", "message"] : name => jsondecode(file("../../../lambda/${name}/wiring.json")) }
    protocol = jsondecode(file("../../../protocol/protocol.json"))
  }

  assert {
    condition     = toset(keys(module.functions)) == toset(keys(var.wiring))
    error_message = "There is one function per wiring manifest under lambda/."
  }

  assert {
    condition     = toset(keys(output.function_names)) == toset(["connect", "disconnect", "message", "authorizer", "http"])
    error_message = "Every manifest's function exists (http with the HTTP API, on by default), the broadcaster only when enabled."
  }

  assert {
    condition = alltrue([
      for name in ["connect", "disconnect", "message", "authorizer", "http"] :
      toset(keys(module.functions[name].environment_variables)) == toset([for variable, setting in var.wiring[name].environment : variable if !contains(["callback_url", "action_aliases", "slot_settle_seconds", "jwks_cache_max_age_seconds", "jwks_stale_grace_seconds", "fanout_queue_url", "fanout_queue_arn", "inline_fanout_limit", "fanout_shard_rate", "fanout_quota_percent", "management_quota", "management_burst"], setting)])
    ])
    error_message = "Each function gets exactly the variables its manifest names, but the settings that are null by default (callback_url, action_aliases, slot_settle_seconds, the JWKS cache ages, the fan-out tuning and the management quota: the handlers' defaults apply; the fan-out queue exists only with the broadcaster)."
  }

  assert {
    condition     = toset(keys(module.api.routes)) == toset(concat(["$connect", "$disconnect", "$default"], var.protocol.actions))
    error_message = "The API has the lifecycle routes, $default and one route per protocol action."
  }

  assert {
    condition     = toset([for key, route in module.api.routes : key if route.two_way]) == toset(concat(["$default"], var.protocol.actions))
    error_message = "The message manifest's routes are two-way; $connect and $disconnect are not."
  }
}

run "environment_values" {
  command = apply

  assert {
    condition = module.functions["message"].environment_variables == tomap({
      WSKIT_TABLE_NAME                  = "wskit-test-connections"
      WSKIT_PUBLIC_TOPIC_PREFIXES       = "public:,news."
      WSKIT_MAX_TOPICS_PER_CONNECTION   = "100"
      WSKIT_METRICS_NAMESPACE           = "wskit/wskit-test"
      WSKIT_JWT_CLOCK_TOLERANCE_SECONDS = "5"
      WSKIT_FRAME_RATE_LIMIT            = "120"
      WSKIT_PUBLISH_RATE_LIMIT          = "100"
      WSKIT_RATE_LIMIT_WINDOW_SECONDS   = "10"
      WSKIT_HISTORY_RETENTION_SECONDS   = "600"
      WSKIT_HISTORY_MAX_MESSAGES        = "1000"
      WSKIT_TRACING                     = "on"
      WSKIT_LOG_LEVEL                   = "INFO"
    })
    error_message = "message gets the table, the public prefixes (comma-separated), its topic cap, the metric namespace, the clock tolerance, the rate limits, the history retention and the log level; no callback URL or aliases unless set."
  }

  assert {
    condition = module.functions["authorizer"].environment_variables == tomap({
      WSKIT_JWKS_URI                    = "https://idp.example.com/.well-known/jwks.json"
      WSKIT_JWT_ISSUER                  = "https://idp.example.com/"
      WSKIT_JWT_AUDIENCE                = "wskit,wskit-mobile"
      WSKIT_JWT_ALGORITHMS              = "RS256"
      WSKIT_TOKEN_SOURCES               = "query:token"
      WSKIT_JWT_CLOCK_TOLERANCE_SECONDS = "5"
      WSKIT_METRICS_NAMESPACE           = "wskit/wskit-test"
      WSKIT_LOG_LEVEL                   = "INFO"
    })
    error_message = "The authorizer gets the JWT settings and the metric namespace, no table; the JWKS cache ages are left to its defaults."
  }

  assert {
    condition = module.functions["http"].environment_variables == tomap({
      WSKIT_TABLE_NAME                  = "wskit-test-connections"
      WSKIT_API_ID                      = "a1b2c3d4e5"
      WSKIT_STAGE                       = "test"
      WSKIT_PUBLIC_TOPIC_PREFIXES       = "public:,news."
      WSKIT_JWT_CLOCK_TOLERANCE_SECONDS = "5"
      WSKIT_FRAME_RATE_LIMIT            = "120"
      WSKIT_PUBLISH_RATE_LIMIT          = "100"
      WSKIT_RATE_LIMIT_WINDOW_SECONDS   = "10"
      WSKIT_HISTORY_RETENTION_SECONDS   = "600"
      WSKIT_HISTORY_MAX_MESSAGES        = "1000"
      WSKIT_METRICS_NAMESPACE           = "wskit/wskit-test"
      WSKIT_TRACING                     = "on"
      WSKIT_LOG_LEVEL                   = "INFO"
    })
    error_message = "The http function gets the table, the WebSocket API's id and stage (its callback URL for fan-out), the topic policy, the rate limits and the history retention."
  }

  assert {
    condition     = module.functions["connect"].environment_variables["WSKIT_MAX_CONNECTIONS_PER_USER"] == "10" && !contains(keys(module.functions["connect"].environment_variables), "WSKIT_SLOT_SETTLE_SECONDS")
    error_message = "The per-user cap defaults to 10; the slot settle time is the handler's default unless set."
  }

  assert {
    condition     = alltrue([for key in ["connect", "disconnect", "message", "authorizer", "http"] : module.functions[key].configuration.runtime == "nodejs22.x" && module.functions[key].configuration.architecture == "arm64" && module.functions[key].configuration.handler == "index.handler"])
    error_message = "Every function runs index.handler on nodejs22.x, arm64."
  }

  assert {
    condition     = module.monitoring.metric_namespace == module.functions["message"].environment_variables["WSKIT_METRICS_NAMESPACE"]
    error_message = "The message function writes its metrics where the alarms look."
  }
}

run "tuned_settings_reach_the_functions" {
  command = apply

  variables {
    rate_limits         = { frames_per_connection = 60, publishes_per_user = 30, window_seconds = 5 }
    history             = { retention_seconds = 3600, max_messages = 200 }
    slot_settle_seconds = 45
    jwks_cache          = { max_age_seconds = 300, stale_grace_seconds = 900 }
    tracing_mode        = "PassThrough"
  }

  assert {
    condition = alltrue([for name in ["message", "http"] :
      module.functions[name].environment_variables["WSKIT_FRAME_RATE_LIMIT"] == "60" &&
      module.functions[name].environment_variables["WSKIT_PUBLISH_RATE_LIMIT"] == "30" &&
      module.functions[name].environment_variables["WSKIT_RATE_LIMIT_WINDOW_SECONDS"] == "5" &&
      module.functions[name].environment_variables["WSKIT_HISTORY_RETENTION_SECONDS"] == "3600" &&
      module.functions[name].environment_variables["WSKIT_HISTORY_MAX_MESSAGES"] == "200"
    ])
    error_message = "rate_limits and history reach the message router and the http function."
  }

  assert {
    condition     = module.functions["connect"].environment_variables["WSKIT_SLOT_SETTLE_SECONDS"] == "45"
    error_message = "slot_settle_seconds reaches connect."
  }

  assert {
    condition     = module.functions["authorizer"].environment_variables["WSKIT_JWKS_CACHE_MAX_AGE_SECONDS"] == "300" && module.functions["authorizer"].environment_variables["WSKIT_JWKS_STALE_GRACE_SECONDS"] == "900"
    error_message = "jwks_cache reaches the authorizer."
  }

  assert {
    condition     = alltrue([for name in ["connect", "disconnect", "message", "authorizer", "http"] : module.functions[name].configuration.tracing_mode == "PassThrough"])
    error_message = "tracing_mode reaches every function."
  }
}

run "out_of_range_rate_limits_are_rejected" {
  command = plan

  variables {
    rate_limits = { window_seconds = 0 }
  }

  expect_failures = [var.rate_limits]
}

run "unknown_tracing_modes_are_rejected" {
  command = plan

  variables {
    tracing_mode = "On"
  }

  expect_failures = [var.tracing_mode]
}

run "empty_settings_are_left_out" {
  command = plan

  variables {
    public_topic_prefixes = []
  }

  assert {
    condition     = !contains(keys(module.functions["message"].environment_variables), "WSKIT_PUBLIC_TOPIC_PREFIXES")
    error_message = "A setting with no value is left out of the environment (the handler's default applies)."
  }
}

run "iam_comes_from_the_manifests" {
  command = apply

  variables {
    wiring = { for name in ["authorizer", "connect", "disconnect", "http", "message"] : name => jsondecode(file("../../../lambda/${name}/wiring.json")) }
  }

  assert {
    condition = alltrue([
      for name, wiring in var.wiring : (
        toset(flatten([for statement in jsondecode(module.functions[name].policy_json).Statement : [for action in statement.Action : action if startswith(action, "dynamodb:")] if contains(statement.Resource, "arn:aws:dynamodb:eu-west-1:123456789012:table/wskit-test-connections")]))
        == toset([for action in wiring.permissions.dynamodb : "dynamodb:${action}"])
      )
    ])
    error_message = "Each function may call exactly the DynamoDB actions on the table its manifest lists."
  }

  assert {
    condition = alltrue(flatten([
      for name in keys(var.wiring) : [
        for statement in jsondecode(module.functions[name].policy_json).Statement : [
          for resource in statement.Resource : !strcontains(resource, "/index/")
        ]
      ]
    ]))
    error_message = "No function is granted anything on a table index: the table has none (a user's connections live in the user item)."
  }

  assert {
    condition = alltrue([
      for name, wiring in var.wiring : (
        toset(flatten([for statement in jsondecode(module.functions[name].policy_json).Statement : statement.Resource if contains(statement.Action, "execute-api:ManageConnections")]))
        == toset([for method in wiring.permissions.manageConnections : "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/test/${method}/@connections/*"])
      )
    ])
    error_message = "execute-api:ManageConnections is granted per method the manifest lists, on this stage's @connections only."
  }

  assert {
    condition = alltrue(flatten([
      for key in ["connect", "disconnect", "message", "authorizer", "http"] : [
        for statement in jsondecode(module.functions[key].policy_json).Statement : [
          for action in statement.Action : action != "*" && !endswith(action, ":*")
        ]
      ]
    ]))
    error_message = "No function may be granted \"*\" or \"service:*\" actions."
  }

  assert {
    condition     = [for statement in jsondecode(module.functions["authorizer"].policy_json).Statement : statement.Sid] == ["WriteOwnLogs", "WriteTraces"]
    error_message = "The authorizer's manifest lists no permission, so it gets no statement beyond its logs and traces."
  }
}

run "retention_reaches_every_log_group" {
  command = plan

  assert {
    condition     = alltrue([for key in ["connect", "disconnect", "message", "authorizer", "http"] : module.functions[key].configuration.log_retention_in_days == 14]) && module.api.access_log_retention_in_days == 14 && module.http_api.access_log_retention_in_days == 14
    error_message = "The environment's retention applies to every function log group and to both APIs' access logs."
  }
}

run "authorizer_and_identity_source" {
  command = plan

  assert {
    condition     = [for key, route in module.api.routes : key if route.authorization_type == "CUSTOM"] == ["$connect"]
    error_message = "Only $connect is authorized."
  }

  assert {
    condition     = module.api.authorizer_identity_sources == tolist(["route.request.querystring.token"])
    error_message = "One token source is required as the identity source."
  }
}

run "header_token_source_moves_the_identity_source" {
  command = plan

  variables {
    token_sources = ["header:Authorization"]
  }

  assert {
    condition     = module.api.authorizer_identity_sources == tolist(["route.request.header.Authorization"])
    error_message = "header:Authorization maps to route.request.header.Authorization."
  }

  assert {
    condition     = module.functions["authorizer"].environment_variables["WSKIT_TOKEN_SOURCES"] == "header:Authorization"
    error_message = "The authorizer reads the token where the identity source points."
  }
}

run "several_token_sources_require_none_of_them" {
  command = plan

  variables {
    token_sources = ["query:token", "header:Authorization"]
  }

  assert {
    condition     = length(module.api.authorizer_identity_sources) == 0
    error_message = "With two token sources API Gateway must not require either: no identity source, the authorizer runs for every $connect and refuses one without a token."
  }

  assert {
    condition     = module.functions["authorizer"].environment_variables["WSKIT_TOKEN_SOURCES"] == "query:token,header:Authorization"
    error_message = "The authorizer looks in both places, in order."
  }
}

run "broadcaster_enabled_from_a_queue" {
  command = apply

  variables {
    broadcaster = {
      enabled               = true
      environment_variables = { WSKIT_STREAM_TOPIC_ATTRIBUTE = "channel" }
    }
  }

  assert {
    condition = module.functions["broadcaster"].environment_variables == tomap({
      WSKIT_TABLE_NAME                  = "wskit-test-connections"
      WSKIT_API_ID                      = "a1b2c3d4e5"
      WSKIT_STAGE                       = "test"
      WSKIT_METRICS_NAMESPACE           = "wskit/wskit-test"
      WSKIT_JWT_CLOCK_TOLERANCE_SECONDS = "5"
      WSKIT_HISTORY_RETENTION_SECONDS   = "600"
      WSKIT_HISTORY_MAX_MESSAGES        = "1000"
      WSKIT_FANOUT_QUEUE_URL            = "https://sqs.eu-west-1.amazonaws.com/123456789012/wskit-test-queue"
      WSKIT_FANOUT_QUEUE_ARN            = "arn:aws:sqs:eu-west-1:123456789012:wskit-test-queue"
      WSKIT_TRACING                     = "on"
      WSKIT_LOG_LEVEL                   = "INFO"
      WSKIT_STREAM_TOPIC_ATTRIBUTE      = "channel"
    })
    error_message = "The broadcaster builds its callback URL from WSKIT_API_ID and WSKIT_STAGE; its own mapping passes through."
  }

  assert {
    condition     = output.broadcaster_source_queue_url != null && output.broadcaster_failure_queue_url != null
    error_message = "An SQS broadcaster without a source ARN gets a source queue and a failure queue."
  }

  assert {
    condition     = jsondecode(module.broadcaster.policy_json).Statement[0].Action == ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    error_message = "The broadcaster role may consume its queue."
  }

  assert {
    condition     = contains(module.monitoring.alarm_names, "wskit-test-broadcaster-failure-queue-depth")
    error_message = "The broadcaster's failure queue is alarmed."
  }

  assert {
    condition     = contains(module.monitoring.alarm_names, "wskit-test-wskit-broadcaster-failed-deliveries") && contains(module.monitoring.alarm_names, "wskit-test-wskit-message-failed-deliveries")
    error_message = "Failed deliveries are alarmed for both senders, in the namespace their WSKIT_METRICS_NAMESPACE names."
  }

  assert {
    condition     = contains(module.monitoring.alarm_names, "wskit-test-broadcaster-faults")
    error_message = "The broadcaster's faults are alarmed once it exists."
  }
}

run "big_topics_get_a_fan_out_queue_with_the_broadcaster" {
  command = apply

  variables {
    broadcaster      = { enabled = true }
    fanout           = { inline_limit = 500, shard_rate = 3000, quota_percent = 80, maximum_concurrency = 20 }
    management_quota = { rate = 40000, burst = 20000 }
    wiring           = { for name in ["authorizer", "broadcaster", "connect", "disconnect", "http", "message"] : name => jsondecode(file("../../../lambda/${name}/wiring.json")) }
  }

  assert {
    condition = alltrue([
      for name in ["message", "http", "broadcaster"] :
      module.functions[name].environment_variables["WSKIT_FANOUT_QUEUE_URL"] == aws_sqs_queue.fanout[0].url &&
      module.functions[name].environment_variables["WSKIT_INLINE_FANOUT_LIMIT"] == "500" &&
      module.functions[name].environment_variables["WSKIT_FANOUT_SHARD_RATE"] == "3000" &&
      module.functions[name].environment_variables["WSKIT_FANOUT_QUOTA_PERCENT"] == "80" &&
      module.functions[name].environment_variables["WSKIT_MANAGEMENT_QUOTA"] == "40000" &&
      module.functions[name].environment_variables["WSKIT_MANAGEMENT_BURST"] == "20000"
    ])
    error_message = "The publishers get the fan-out queue's URL and the tuned fan-out settings."
  }

  assert {
    condition     = module.functions["broadcaster"].environment_variables["WSKIT_FANOUT_QUEUE_ARN"] == aws_sqs_queue.fanout[0].arn && !contains(keys(module.functions["message"].environment_variables), "WSKIT_FANOUT_QUEUE_ARN")
    error_message = "Only the broadcaster, which runs the jobs, is told the queue's ARN (it runs jobs from that queue only)."
  }

  assert {
    condition = alltrue([
      for name, wiring in var.wiring : (
        toset(flatten([for statement in jsondecode(module.functions[name].policy_json).Statement : [for action in statement.Action : action if startswith(action, "sqs:")]]))
        == toset([for action in try(wiring.permissions.fanOutQueue, []) : "sqs:${action}"])
      )
    ])
    error_message = "Each function may send to the fan-out queue exactly what its manifest's fanOutQueue lists (its own policy; consuming is the event source mapping's)."
  }

  assert {
    condition = alltrue(flatten([
      for name in ["message", "http", "broadcaster"] : [
        for statement in jsondecode(module.functions[name].policy_json).Statement : statement.Resource == [aws_sqs_queue.fanout[0].arn] if contains(statement.Action, "sqs:SendMessage")
      ]
    ]))
    error_message = "sqs:SendMessage is granted on the fan-out queue only."
  }

  assert {
    condition     = jsondecode(aws_iam_role_policy.fanout_consumer[0].policy).Statement[0].Action == ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"] && jsondecode(aws_iam_role_policy.fanout_consumer[0].policy).Statement[0].Resource == [aws_sqs_queue.fanout[0].arn]
    error_message = "The broadcaster's role may consume the fan-out queue, and nothing else with that statement."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.fanout[0].batch_size == 1 && aws_lambda_event_source_mapping.fanout[0].function_response_types == toset(["ReportBatchItemFailures"]) && aws_lambda_event_source_mapping.fanout[0].scaling_config[0].maximum_concurrency == 20
    error_message = "One shard job per invocation, failed jobs reported one by one, at most fanout.maximum_concurrency at once."
  }

  assert {
    condition     = aws_sqs_queue.fanout[0].visibility_timeout_seconds == 360 && jsondecode(aws_sqs_queue.fanout[0].redrive_policy).maxReceiveCount == 3 && aws_sqs_queue.fanout[0].sqs_managed_sse_enabled
    error_message = "The queue hides a job for six broadcaster timeouts, dead-letters it after 3 receives, and is encrypted."
  }

  assert {
    condition     = length(jsondecode(aws_sqs_queue_policy.fanout[0].policy).Statement[0].Condition.ArnNotEquals["aws:PrincipalArn"]) == 3 && jsondecode(aws_sqs_queue_policy.fanout[0].policy).Statement[0].Effect == "Deny"
    error_message = "The queue refuses jobs from anyone but the roles of the three publishing functions."
  }

  assert {
    condition     = contains(module.monitoring.alarm_names, "wskit-test-fanout-failure-queue-depth")
    error_message = "The fan-out dead-letter queue is alarmed."
  }
}

run "no_fan_out_queue_without_the_broadcaster_or_tracing_without_active" {
  command = apply

  variables {
    tracing_mode = "PassThrough"
  }

  assert {
    condition     = length(aws_sqs_queue.fanout) == 0 && length(aws_lambda_event_source_mapping.fanout) == 0 && !contains(keys(module.functions["message"].environment_variables), "WSKIT_FANOUT_QUEUE_URL")
    error_message = "Without the broadcaster there is no queue to hand off to: every fan-out runs inline."
  }

  assert {
    condition     = alltrue([for name in ["message", "http", "connect", "disconnect"] : !contains(keys(module.functions[name].environment_variables), "WSKIT_TRACING")])
    error_message = "With PassThrough the handlers send no subsegments of their own."
  }
}

run "out_of_range_fan_out_settings_are_rejected" {
  command = plan

  variables {
    fanout           = { maximum_concurrency = 1, quota_percent = 0 }
    management_quota = { rate = 0.5 }
  }

  expect_failures = [var.fanout, var.management_quota]
}

run "broadcaster_cannot_override_what_its_manifest_sets" {
  command = plan

  variables {
    broadcaster = {
      enabled               = true
      environment_variables = { WSKIT_TABLE_NAME = "another-table" }
    }
  }

  expect_failures = [data.aws_partition.current]
}

run "callback_override_only_when_set" {
  command = apply

  variables {
    callback_url_override = "https://ws-internal.example.com/test"
    broadcaster           = { enabled = true }
  }

  assert {
    condition     = alltrue([for key in ["connect", "message", "broadcaster", "http"] : module.functions[key].environment_variables["WSKIT_CALLBACK_URL"] == "https://ws-internal.example.com/test"])
    error_message = "An override reaches the functions whose manifests read callback_url."
  }

  assert {
    condition     = !anytrue([for key in ["disconnect", "authorizer"] : contains(keys(module.functions[key].environment_variables), "WSKIT_CALLBACK_URL")])
    error_message = "Functions that never call back do not get the URL."
  }
}

run "urls" {
  command = apply

  assert {
    condition     = output.wss_url == "wss://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/test"
    error_message = "Without a custom domain clients use the execute-api URL."
  }

  assert {
    condition     = output.callback_url == "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/test"
    error_message = "The callback URL is https://<apiId>.execute-api.<region>.amazonaws.com/<stage>."
  }
}

run "urls_in_china" {
  command = apply

  override_data {
    target = module.api.data.aws_partition.current
    values = {
      partition  = "aws-cn"
      dns_suffix = "amazonaws.com.cn"
    }
  }

  override_data {
    target = module.api.data.aws_region.current
    values = {
      id   = "cn-north-1"
      name = "cn-north-1"
    }
  }

  assert {
    condition     = output.callback_url == "https://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn/test" && output.wss_url == "wss://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn/test"
    error_message = "In China the URLs use the partition's DNS suffix, amazonaws.com.cn."
  }
}

run "urls_in_govcloud" {
  command = apply

  override_data {
    target = module.api.data.aws_partition.current
    values = {
      partition  = "aws-us-gov"
      dns_suffix = "amazonaws.com"
    }
  }

  override_data {
    target = module.api.data.aws_region.current
    values = {
      id   = "us-gov-west-1"
      name = "us-gov-west-1"
    }
  }

  assert {
    condition     = output.callback_url == "https://a1b2c3d4e5.execute-api.us-gov-west-1.amazonaws.com/test"
    error_message = "In GovCloud the callback URL uses amazonaws.com with the us-gov Region."
  }
}

run "custom_domain_with_a_new_certificate" {
  command = apply

  variables {
    domain_name    = "ws.example.com"
    hosted_zone_id = "Z0123456789ABCDEFGHIJ"
  }

  assert {
    condition     = aws_acm_certificate.this[0].domain_name == "ws.example.com" && aws_acm_certificate.this[0].validation_method == "DNS"
    error_message = "The module requests a DNS-validated certificate."
  }

  assert {
    condition     = aws_route53_record.certificate_validation[0].name == "_abc.ws.example.com." && aws_route53_record.certificate_validation[0].type == "CNAME"
    error_message = "The validation record is written into the hosted zone."
  }

  assert {
    condition     = aws_apigatewayv2_domain_name.this[0].domain_name_configuration[0].security_policy == "TLS_1_2" && aws_apigatewayv2_domain_name.this[0].domain_name_configuration[0].certificate_arn == "arn:aws:acm:eu-west-1:123456789012:certificate/0b5c8f3e-1111-2222-3333-444455556666"
    error_message = "The domain uses the validated certificate and TLS 1.2."
  }

  assert {
    condition     = aws_apigatewayv2_api_mapping.this[0].stage == "test" && aws_route53_record.this[0].type == "A"
    error_message = "The domain maps to the stage and resolves through an alias record."
  }

  assert {
    condition     = output.wss_url == "wss://ws.example.com" && output.callback_url == "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/test"
    error_message = "Clients use the custom domain; callbacks keep the execute-api host."
  }
}

run "custom_domain_without_zone_or_certificate_is_rejected" {
  command = plan

  variables {
    domain_name = "ws.example.com"
  }

  expect_failures = [aws_acm_certificate.this]
}

run "unsafe_algorithms_are_rejected" {
  command = plan

  variables {
    jwt_algorithms = ["RS256", "HS256"]
  }

  expect_failures = [data.aws_partition.current]
}

run "eddsa_is_rejected_like_the_authorizer_does" {
  command = plan

  variables {
    jwt_algorithms = ["EdDSA"]
  }

  expect_failures = [data.aws_partition.current]
}

run "every_protocol_algorithm_is_accepted" {
  command = plan

  variables {
    jwt_algorithms = jsondecode(file("../../../protocol/protocol.json")).jwtAlgorithms
  }

  assert {
    condition     = module.functions["authorizer"].environment_variables["WSKIT_JWT_ALGORITHMS"] == "RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,ES512"
    error_message = "Every algorithm the authorizer verifies is accepted."
  }
}

run "public_prefix_user_colon_is_refused" {
  command = plan

  variables {
    public_topic_prefixes = ["public:", "user:"]
  }

  expect_failures = [data.aws_partition.current]
}

run "public_prefix_user_is_refused" {
  command = plan

  variables {
    public_topic_prefixes = ["user"]
  }

  expect_failures = [data.aws_partition.current]
}

run "public_prefix_inside_user_topics_is_refused" {
  command = plan

  variables {
    public_topic_prefixes = ["user:alice"]
  }

  expect_failures = [data.aws_partition.current]
}

run "public_prefix_outside_the_grammar_is_refused" {
  command = plan

  variables {
    public_topic_prefixes = ["has space"]
  }

  expect_failures = [data.aws_partition.current]
}

run "public_prefixes_that_only_look_alike_are_accepted" {
  command = plan

  variables {
    public_topic_prefixes = ["users.", "u", "userland:", "équipe:", "auth0|tenant/"]
  }

  assert {
    condition     = module.functions["message"].environment_variables["WSKIT_PUBLIC_TOPIC_PREFIXES"] == "users.,u,userland:,équipe:,auth0|tenant/"
    error_message = "Prefixes that end at a boundary before user: topics, and any visible Unicode, are accepted."
  }
}

run "unknown_setting_in_a_manifest_fails_the_plan" {
  command = plan

  variables {
    repository_root = "tests/fixtures/repo-unknown-setting"
  }

  expect_failures = [data.aws_partition.current]
}

run "application_routes" {
  command = apply

  variables {
    application_routes = {
      chat_message = { action = "publish" }
      chat_typing  = { function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:team-typing", two_way = true }
      audit_event  = { function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:team-audit" }
    }
  }

  assert {
    condition     = module.api.routes["chat_message"].two_way && output.settings.action_aliases == "chat_message=publish"
    error_message = "An alias route goes to the message router as a two-way route, and the action_aliases setting carries route=action."
  }

  assert {
    condition     = lookup(module.functions["message"].environment_variables, "WSKIT_ACTION_ALIASES", "chat_message=publish") == "chat_message=publish"
    error_message = "Where the message manifest maps WSKIT_ACTION_ALIASES to action_aliases, the router gets the aliases."
  }

  assert {
    condition     = module.api.routes["chat_typing"].two_way && !module.api.routes["audit_event"].two_way
    error_message = "A team's function route is two-way only when asked."
  }

  assert {
    condition     = module.api.integration_uris["app-chat_typing"] == "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:team-typing/invocations"
    error_message = "A team's function is integrated through its invoke URI."
  }

  assert {
    condition     = module.api.route_permissions["chat_typing"] == { function_name = "arn:aws:lambda:eu-west-1:123456789012:function:team-typing", source_arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/test/chat_typing" }
    error_message = "API Gateway may invoke the team's function for that route of this stage only."
  }
}

run "application_route_cannot_take_a_protocol_action" {
  command = plan

  variables {
    application_routes = {
      publish = { function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:team-publish" }
    }
  }

  expect_failures = [data.aws_partition.current]
}

run "application_route_alias_must_name_a_protocol_action" {
  command = plan

  variables {
    application_routes = {
      chat_message = { action = "shout" }
    }
  }

  expect_failures = [data.aws_partition.current]
}

run "application_route_cannot_take_a_lifecycle_route" {
  command = plan

  variables {
    application_routes = {
      "$default" = { function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:team-default" }
    }
  }

  expect_failures = [var.application_routes]
}

run "functions_from_s3_objects" {
  command = plan

  variables {
    lambda_package_dir = null
    lambda_s3_packages = {
      for name in ["connect", "disconnect", "message", "authorizer", "http"] : name => {
        bucket  = "wskit-artifacts"
        key     = "wskit/0.2.0/${name}.zip"
        version = "v-${name}"
      }
    }
  }

  assert {
    condition = alltrue([for name in ["connect", "disconnect", "message", "authorizer", "http"] :
      module.functions[name].code.package_path == null &&
      module.functions[name].code.s3_bucket == "wskit-artifacts" &&
      module.functions[name].code.s3_key == "wskit/0.2.0/${name}.zip" &&
      module.functions[name].code.s3_object_version == "v-${name}"
    ])
    error_message = "Each function deploys from its uploaded object version."
  }
}

run "reserved_concurrency_per_function" {
  command = plan

  variables {
    reserved_concurrent_executions = { message = 200, connect = 50, authorizer = 50 }
  }

  assert {
    condition     = module.functions["message"].configuration.reserved_concurrent_executions == 200 && module.functions["connect"].configuration.reserved_concurrent_executions == 50 && module.functions["disconnect"].configuration.reserved_concurrent_executions == -1
    error_message = "Reservations reach the functions they name; the others stay unreserved."
  }
}

run "unknown_function_names_fail_the_plan" {
  command = plan

  variables {
    reserved_concurrent_executions = { mesage = 200 }
  }

  expect_failures = [data.aws_partition.current]
}

run "alarms_follow_the_functions" {
  command = plan

  assert {
    condition = toset(module.monitoring.alarm_names) == toset([
      "wskit-test-api-execution-errors", "wskit-test-api-integration-latency-p99",
      "wskit-test-lambda-connect-errors", "wskit-test-lambda-connect-throttles",
      "wskit-test-lambda-disconnect-errors", "wskit-test-lambda-disconnect-throttles",
      "wskit-test-lambda-message-errors", "wskit-test-lambda-message-throttles",
      "wskit-test-lambda-http-errors", "wskit-test-lambda-http-throttles",
      "wskit-test-lambda-authorizer-throttles",
      "wskit-test-connect-faults", "wskit-test-disconnect-faults", "wskit-test-message-faults", "wskit-test-authorizer-faults", "wskit-test-http-faults",
      "wskit-test-authorizer-jwks-unavailable", "wskit-test-refusals-spike",
      "wskit-test-dynamodb-throttles", "wskit-test-dynamodb-system-errors",
      "wskit-test-wskit-message-failed-deliveries", "wskit-test-wskit-message-management-api-throttled", "wskit-test-wskit-message-fan-out-duration-p99",
      "wskit-test-wskit-http-failed-deliveries", "wskit-test-wskit-http-management-api-throttled", "wskit-test-wskit-http-fan-out-duration-p99",
      "wskit-test-http-api-5xx", "wskit-test-http-api-latency-p99",
      "wskit-test-client-reconnects-per-report", "wskit-test-client-failed-connects-per-report", "wskit-test-client-rtt-p95",
    ])
    error_message = "Faults, throttles, JWKS outages, DynamoDB and fan-out problems, HTTP API 5xx and latency, and client health page; the authorizer's Lambda Errors, IntegrationError and HTTP 4xx do not."
  }
}

run "http_api_routes_come_from_the_manifests" {
  command = apply

  variables {
    http_routes = jsondecode(file("../../../lambda/http/wiring.json")).httpRoutes
  }

  assert {
    condition     = toset(keys(module.http_api.routes)) == toset([for route in var.http_routes : route.key])
    error_message = "The HTTP API has exactly the httpRoutes of the manifests."
  }

  assert {
    condition = alltrue([for route in var.http_routes :
      module.http_api.routes[route.key].authorization_type == (route.authorization == "iam" ? "AWS_IAM" : "CUSTOM") &&
      module.http_api.routes[route.key].authorizer_id == (route.authorization == "token" ? "auth123" : null)
    ])
    error_message = "token routes carry the Lambda authorizer, iam routes AWS_IAM and no authorizer."
  }

  assert {
    condition     = alltrue([for route in var.http_routes : module.http_api.route_permissions[route.key].function_name == module.functions["http"].function_name])
    error_message = "Every HTTP route invokes the function whose manifest declares it."
  }

  assert {
    condition = alltrue([for route in var.http_routes :
      module.http_api.route_permissions[route.key].source_arn == "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/test/${split(" ", route.key)[0]}${replace(split(" ", route.key)[1], "{topic}", "*")}"
    ])
    error_message = "Each route's invoke permission is scoped to its method and path on this stage."
  }

  assert {
    condition     = keys(module.http_api.integration_uris) == ["http"] && module.http_api.integration_uris["http"] == module.functions["http"].invoke_arn
    error_message = "One payload 2.0 integration for the http function."
  }

  assert {
    condition     = output.http_api_url == "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/test" && output.http_api_id == "a1b2c3d4e5"
    error_message = "The HTTP API's base URL and id are outputs."
  }

  assert {
    condition = output.http_api_iam_invoke_arns == tomap({
      "GET /iam/topics/{topic}/messages"  = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/test/GET/iam/topics/*/messages"
      "POST /iam/topics/{topic}/messages" = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/test/POST/iam/topics/*/messages"
    })
    error_message = "The ARNs a backend's IAM policy allows are outputs, for the iam routes."
  }

  assert {
    condition     = output.log_group_names["http_access"] == "/aws/apigateway/wskit-test-http/test/access"
    error_message = "The HTTP API's access log group is listed with the others."
  }
}

run "http_api_authorizer_is_the_wskit_authorizer" {
  command = apply

  assert {
    condition = (
      module.http_api.authorizer.authorizer_uri == module.functions["authorizer"].invoke_arn &&
      module.http_api.authorizer.payload_format_version == "2.0" &&
      module.http_api.authorizer.enable_simple_responses &&
      module.http_api.authorizer.identity_sources == toset(["$request.header.Authorization"]) &&
      module.http_api.authorizer.result_ttl_seconds == 0
    )
    error_message = "The token routes are authorized by the wskit authorizer: payload 2.0, simple responses, the Authorization header, no cached decisions by default."
  }
}

run "http_api_cors_and_throttling" {
  command = plan

  variables {
    http_api = {
      cors_allow_origins            = ["https://app.example.com", "http://localhost:5173"]
      authorizer_result_ttl_seconds = 30
      throttling_burst_limit        = 20
      throttling_rate_limit         = 10
    }
  }

  assert {
    condition     = module.http_api.cors_allow_origins == toset(["https://app.example.com", "http://localhost:5173"])
    error_message = "The allowed origins reach the HTTP API's CORS configuration."
  }

  assert {
    condition     = module.http_api.authorizer.result_ttl_seconds == 30 && module.http_api.throttling.burst_limit == 20 && module.http_api.throttling.rate_limit == 10
    error_message = "The authorizer cache and the stage throttling come from http_api."
  }
}

run "http_api_disabled" {
  command = plan

  variables {
    http_api = { enabled = false }
  }

  assert {
    condition     = !contains(keys(output.function_names), "http") && output.http_api_url == null && length(output.http_api_iam_invoke_arns) == 0
    error_message = "Without the HTTP API neither it nor the function that only answers it exists."
  }

  assert {
    condition     = !contains(module.monitoring.alarm_names, "wskit-test-http-api-5xx") && !contains(module.monitoring.alarm_names, "wskit-test-http-faults")
    error_message = "Nothing watches what does not exist."
  }
}

run "duplicate_http_routes_fail_the_plan" {
  command = plan

  variables {
    repository_root = "tests/fixtures/repo-duplicate-http-route"
    lambda_packages = { http2 = "tests/fixtures/http.zip" }
  }

  expect_failures = [data.aws_partition.current]
}

run "index_actions_without_an_index_fail_the_plan" {
  command = plan

  variables {
    repository_root = "tests/fixtures/repo-index-without-index"
  }

  expect_failures = [data.aws_partition.current]
}

run "client_health_alarms_watch_the_message_router" {
  command = plan

  variables {
    alarm_thresholds = {
      client_reconnects_per_report      = 0.25
      client_failed_connects_per_report = 0.5
      client_rtt_p95_ms                 = 1500
      client_rtt_statistic              = "p90"
      client_min_reports                = 50
    }
  }

  assert {
    condition = (
      module.monitoring.alarm_thresholds["wskit-test-client-reconnects-per-report"] == 0.25 &&
      module.monitoring.alarm_thresholds["wskit-test-client-failed-connects-per-report"] == 0.5 &&
      module.monitoring.alarm_thresholds["wskit-test-client-rtt-p95"] == 1500
    )
    error_message = "The client health alarms take their thresholds from alarm_thresholds."
  }
}
