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

run "environment_follows_the_contract" {
  command = plan

  assert {
    condition     = toset(keys(module.functions["connect"].environment_variables)) == toset(["WSKIT_TABLE_NAME", "WSKIT_MAX_CONNECTIONS_PER_USER", "WSKIT_LOG_LEVEL"])
    error_message = "connect gets WSKIT_TABLE_NAME, WSKIT_MAX_CONNECTIONS_PER_USER and WSKIT_LOG_LEVEL only."
  }

  assert {
    condition     = toset(keys(module.functions["disconnect"].environment_variables)) == toset(["WSKIT_TABLE_NAME", "WSKIT_LOG_LEVEL"])
    error_message = "disconnect gets WSKIT_TABLE_NAME and WSKIT_LOG_LEVEL only."
  }

  assert {
    condition     = module.functions["message"].environment_variables == tomap({ WSKIT_TABLE_NAME = "wskit-test-connections", WSKIT_PUBLIC_TOPIC_PREFIXES = "public:,news.", WSKIT_METRICS_NAMESPACE = "wskit/wskit-test", WSKIT_LOG_LEVEL = "INFO" })
    error_message = "message gets the table, the public prefixes (comma-separated) and the log level; no callback URL unless overridden."
  }

  assert {
    condition = module.functions["authorizer"].environment_variables == tomap({
      WSKIT_JWKS_URI       = "https://idp.example.com/.well-known/jwks.json"
      WSKIT_JWT_ISSUER     = "https://idp.example.com/"
      WSKIT_JWT_AUDIENCE   = "wskit,wskit-mobile"
      WSKIT_JWT_ALGORITHMS = "RS256"
      WSKIT_TOKEN_SOURCES  = "query:token"
      WSKIT_LOG_LEVEL      = "INFO"
    })
    error_message = "The authorizer gets the JWT settings and no table."
  }

  assert {
    condition     = module.functions["connect"].environment_variables["WSKIT_MAX_CONNECTIONS_PER_USER"] == "10"
    error_message = "The per-user cap defaults to 10."
  }

  assert {
    condition     = alltrue([for key in ["connect", "disconnect", "message", "authorizer"] : module.functions[key].configuration.runtime == "nodejs22.x" && module.functions[key].configuration.architecture == "arm64" && module.functions[key].configuration.handler == "index.handler"])
    error_message = "Every function runs index.handler on nodejs22.x, arm64."
  }
}

run "broadcaster_is_off_by_default" {
  command = plan

  assert {
    condition     = output.broadcaster_source_queue_url == null && !contains(keys(output.function_names), "broadcaster")
    error_message = "Without broadcaster.enabled there is no broadcaster function, queue or mapping."
  }

  assert {
    condition     = toset(keys(output.function_names)) == toset(["connect", "disconnect", "message", "authorizer"])
    error_message = "The four core functions exist."
  }

  assert {
    condition     = module.monitoring.metric_namespace == module.functions["message"].environment_variables["WSKIT_METRICS_NAMESPACE"]
    error_message = "The message function writes its fan-out metrics where the alarms look."
  }
}

run "iam_is_least_privilege" {
  command = apply

  assert {
    condition = alltrue(flatten([
      for key in ["connect", "disconnect", "message", "authorizer"] : [
        for statement in jsondecode(module.functions[key].policy_json).Statement : [
          for action in statement.Action : action != "*" && !endswith(action, ":*")
        ]
      ]
    ]))
    error_message = "No function may be granted \"*\" or \"service:*\" actions."
  }

  assert {
    condition = alltrue(flatten([
      for key in ["connect", "disconnect", "message", "authorizer"] : [
        for statement in jsondecode(module.functions[key].policy_json).Statement : [
          for resource in statement.Resource :
          resource == "arn:aws:dynamodb:eu-west-1:123456789012:table/wskit-test-connections" || resource == "arn:aws:dynamodb:eu-west-1:123456789012:table/wskit-test-connections/index/byUser"
        ] if anytrue([for action in statement.Action : startswith(action, "dynamodb:")])
      ]
    ]))
    error_message = "DynamoDB actions are scoped to the connections table and its byUser index."
  }

  assert {
    condition = one([
      for statement in jsondecode(module.functions["message"].policy_json).Statement : statement.Resource if contains(statement.Action, "execute-api:ManageConnections")
      ]) == [
      "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/test/POST/@connections/*",
      "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/test/GET/@connections/*",
      "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/test/DELETE/@connections/*",
    ]
    error_message = "execute-api:ManageConnections is scoped to this API's stage and the @connections resource."
  }

  assert {
    condition = one([
      for statement in jsondecode(module.functions["connect"].policy_json).Statement : statement.Resource if contains(statement.Action, "execute-api:ManageConnections")
      ]) == [
      "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/test/GET/@connections/*",
    ]
    error_message = "connect may only ask whether a connection still exists (GET), to prune stale rows at the per-user cap."
  }

  assert {
    condition = !anytrue(flatten([
      for key in ["disconnect", "authorizer"] : [
        for statement in jsondecode(module.functions[key].policy_json).Statement : contains(statement.Action, "execute-api:ManageConnections")
      ]
    ]))
    error_message = "Only the functions that push to clients or check connections may call the management API."
  }

  assert {
    condition = !anytrue([
      for statement in jsondecode(module.functions["authorizer"].policy_json).Statement : anytrue([for action in statement.Action : startswith(action, "dynamodb:")])
    ])
    error_message = "The authorizer has no access to the table."
  }
}

run "retention_reaches_every_log_group" {
  command = plan

  assert {
    condition     = alltrue([for key in ["connect", "disconnect", "message", "authorizer"] : module.functions[key].configuration.log_retention_in_days == 14]) && module.api.access_log_retention_in_days == 14
    error_message = "The environment's retention applies to every function log group and to the access logs."
  }
}

run "routes_and_authorizer" {
  command = plan

  assert {
    condition     = toset(keys(module.api.routes)) == toset(["$connect", "$disconnect", "$default", "hello", "ping", "subscribe", "unsubscribe", "publish", "sendmessage"])
    error_message = "The API has the lifecycle routes and every protocol action."
  }

  assert {
    condition     = toset([for key, route in module.api.routes : key if route.two_way]) == toset(["$default", "hello", "ping", "subscribe", "unsubscribe", "publish", "sendmessage"])
    error_message = "Every message route is two-way; $connect and $disconnect are not."
  }

  assert {
    condition     = [for key, route in module.api.routes : key if route.authorization_type == "CUSTOM"] == ["$connect"]
    error_message = "Only $connect is authorized."
  }

  assert {
    condition     = module.api.authorizer_identity_sources == tolist(["route.request.querystring.token"])
    error_message = "The identity source follows the default token source, the query string."
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

run "broadcaster_enabled_from_a_queue" {
  command = apply

  variables {
    broadcaster = {
      enabled               = true
      environment_variables = { WSKIT_BROADCASTER_STREAM_MAPPING = "topic=topic,data=payload" }
    }
  }

  assert {
    condition = module.functions["broadcaster"].environment_variables == tomap({
      WSKIT_TABLE_NAME                 = "wskit-test-connections"
      WSKIT_API_ID                     = "a1b2c3d4e5"
      WSKIT_STAGE                      = "test"
      WSKIT_METRICS_NAMESPACE          = "wskit/wskit-test"
      WSKIT_LOG_LEVEL                  = "INFO"
      WSKIT_BROADCASTER_STREAM_MAPPING = "topic=topic,data=payload"
    })
    error_message = "The broadcaster builds its callback URL from WSKIT_API_ID and WSKIT_STAGE."
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
    condition = one([
      for statement in jsondecode(module.functions["broadcaster"].policy_json).Statement : statement.Resource if contains(statement.Action, "execute-api:ManageConnections")
      ]) == [
      "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/test/POST/@connections/*",
      "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/test/DELETE/@connections/*",
    ]
    error_message = "The broadcaster may post to and disconnect this stage's connections only."
  }

  assert {
    condition     = contains(module.monitoring.alarm_names, "wskit-test-broadcaster-failure-queue-depth")
    error_message = "The broadcaster's failure queue is alarmed."
  }

  assert {
    condition     = contains(module.monitoring.alarm_names, "wskit-test-wskit-broadcaster-failed-deliveries") && contains(module.monitoring.alarm_names, "wskit-test-wskit-message-failed-deliveries")
    error_message = "Failed deliveries are alarmed for both senders, in the namespace their WSKIT_METRICS_NAMESPACE names."
  }
}

run "callback_override_only_when_set" {
  command = plan

  variables {
    callback_url_override = "https://ws-internal.example.com/test"
    broadcaster           = { enabled = true }
  }

  assert {
    condition     = alltrue([for key in ["connect", "message", "broadcaster"] : module.functions[key].environment_variables["WSKIT_CALLBACK_URL"] == "https://ws-internal.example.com/test"])
    error_message = "An override reaches the connect, message and broadcaster functions."
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
    jwt_algorithms = ["HS256"]
  }

  expect_failures = [var.jwt_algorithms]
}
