mock_provider "aws" {
  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      id            = "a1b2c3d4e5"
      execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
    }
  }

  mock_resource "aws_apigatewayv2_authorizer" {
    defaults = {
      id = "auth123"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/apigateway/wskit-test/test/access"
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
  name       = "wskit-test"
  stage_name = "test"
  integrations = {
    connect = {
      function_name = "wskit-test-connect"
      invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:wskit-test-connect/invocations"
    }
    disconnect = {
      function_name = "wskit-test-disconnect"
      invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:wskit-test-disconnect/invocations"
    }
    message = {
      function_name = "wskit-test-message"
      invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:wskit-test-message/invocations"
    }
  }
  routes = {
    "$connect"    = { integration = "connect" }
    "$disconnect" = { integration = "disconnect" }
    "$default"    = { integration = "message", two_way = true }
    "hello"       = { integration = "message", two_way = true }
    "subscribe"   = { integration = "message", two_way = true }
  }
  authorizer = {
    function_name = "wskit-test-authorizer"
    invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:wskit-test-authorizer/invocations"
  }
  throttling_burst_limit = 50
  throttling_rate_limit  = 100
}

run "authorizer_runs_on_connect_only" {
  command = apply

  assert {
    condition     = aws_apigatewayv2_route.this["$connect"].authorization_type == "CUSTOM" && aws_apigatewayv2_route.this["$connect"].authorizer_id == "auth123"
    error_message = "$connect must be authorized by the REQUEST authorizer."
  }

  assert {
    condition     = alltrue([for key, route in aws_apigatewayv2_route.this : route.authorization_type == "NONE" && route.authorizer_id == null if key != "$connect"])
    error_message = "Only $connect carries the authorizer: WebSocket APIs authorize once per connection."
  }

  assert {
    condition     = aws_apigatewayv2_authorizer.this[0].authorizer_type == "REQUEST" && aws_apigatewayv2_authorizer.this[0].identity_sources == toset(["route.request.querystring.token"])
    error_message = "The default identity source is the token query string parameter."
  }

  assert {
    condition     = aws_apigatewayv2_api.this[0].protocol_type == "WEBSOCKET" && aws_apigatewayv2_api.this[0].route_selection_expression == "$request.body.action"
    error_message = "A WebSocket API routes on $request.body.action."
  }
}

run "message_routes_are_two_way" {
  command = plan

  assert {
    condition     = keys(aws_apigatewayv2_route_response.this) == ["$default", "hello", "subscribe"]
    error_message = "Each two-way route gets a $default route response."
  }

  assert {
    condition     = alltrue([for key, route in aws_apigatewayv2_route.this : route.route_response_selection_expression == (var.routes[key].two_way ? "$default" : null)])
    error_message = "Two-way routes select the $default route response; one-way routes select none."
  }

  assert {
    condition     = alltrue([for integration in aws_apigatewayv2_integration.this : integration.integration_type == "AWS_PROXY"])
    error_message = "Integrations are Lambda proxy integrations."
  }
}

run "access_log_never_records_credentials" {
  command = plan

  assert {
    condition     = !strcontains(lower(aws_apigatewayv2_stage.this[0].access_log_settings[0].format), "querystring") && !strcontains(aws_apigatewayv2_stage.this[0].access_log_settings[0].format, "requestOverride")
    error_message = "The access log format must never reference the query string (the token travels there)."
  }

  assert {
    condition = alltrue([
      for field in values(jsondecode(aws_apigatewayv2_stage.this[0].access_log_settings[0].format)) :
      startswith(field, "$context.") && !startswith(field, "$context.identity.") || contains(["$context.identity.sourceIp", "$context.identity.userAgent"], field)
    ])
    error_message = "Only $context fields, and of $context.identity only sourceIp and userAgent, may be logged."
  }

  assert {
    condition     = !anytrue([for field in values(jsondecode(aws_apigatewayv2_stage.this[0].access_log_settings[0].format)) : can(regex("(?i)(header|token|input|request\\.|apikey|cognito)", field))])
    error_message = "Headers, tokens, bodies and API keys must not appear in the access log."
  }

  assert {
    condition     = jsondecode(aws_apigatewayv2_stage.this[0].access_log_settings[0].format).connectionId == "$context.connectionId"
    error_message = "Access logs are JSON and carry the connection id."
  }
}

run "stage_throttles_and_keeps_data_trace_off" {
  command = plan

  assert {
    condition     = aws_apigatewayv2_stage.this[0].default_route_settings[0].throttling_burst_limit == 50 && aws_apigatewayv2_stage.this[0].default_route_settings[0].throttling_rate_limit == 100
    error_message = "The stage applies the configured throttling."
  }

  assert {
    condition     = aws_apigatewayv2_stage.this[0].default_route_settings[0].data_trace_enabled == false
    error_message = "Data tracing would log full messages: it stays off."
  }

  assert {
    condition     = aws_cloudwatch_log_group.access[0].retention_in_days == 30
    error_message = "The access log group has a retention."
  }
}

run "invoke_permissions_are_scoped_to_this_api" {
  command = apply

  assert {
    condition     = aws_lambda_permission.authorizer[0].source_arn == "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/authorizers/auth123"
    error_message = "The authorizer may be invoked only as this API's authorizer."
  }

  assert {
    condition = alltrue([
      for key, permission in aws_lambda_permission.routes :
      permission.source_arn == "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/test/${key}"
    ])
    error_message = "Each route's permission is scoped to this API, this stage and that route."
  }

  assert {
    condition     = aws_lambda_permission.routes["subscribe"].function_name == "wskit-test-message" && aws_lambda_permission.routes["$connect"].function_name == "wskit-test-connect"
    error_message = "Each permission goes to the function behind the route."
  }

  assert {
    condition     = output.manage_connections_arns.POST == "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/test/POST/@connections/*"
    error_message = "ManageConnections ARNs are scoped to this API's stage."
  }

  assert {
    condition     = output.wss_url == "wss://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/test" && output.callback_url == "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/test"
    error_message = "The URLs are built from the API id, the Region and the stage."
  }
}

run "baseline_deployment" {
  command = apply
}

run "same_config_keeps_the_deployment" {
  command = plan

  variables {
    baseline_redeployment = run.baseline_deployment.deployment_triggers.redeployment
  }

  assert {
    condition     = aws_apigatewayv2_deployment.this[0].triggers.redeployment == var.baseline_redeployment
    error_message = "An unchanged configuration must not force a new deployment."
  }
}

run "new_route_redeploys" {
  command = apply

  variables {
    baseline_redeployment = run.baseline_deployment.deployment_triggers.redeployment
    routes = {
      "$connect"    = { integration = "connect" }
      "$disconnect" = { integration = "disconnect" }
      "$default"    = { integration = "message", two_way = true }
      "hello"       = { integration = "message", two_way = true }
      "subscribe"   = { integration = "message", two_way = true }
      "unsubscribe" = { integration = "message", two_way = true }
    }
  }

  assert {
    condition     = output.deployment_triggers.redeployment != var.baseline_redeployment
    error_message = "Adding a route must create a new deployment."
  }

  assert {
    condition     = aws_apigatewayv2_stage.this[0].deployment_id == output.deployment_id
    error_message = "The stage serves the new deployment."
  }
}

run "route_becoming_one_way_redeploys" {
  command = apply

  variables {
    previous_redeployment = run.new_route_redeploys.deployment_triggers.redeployment
    routes = {
      "$connect"    = { integration = "connect" }
      "$disconnect" = { integration = "disconnect" }
      "$default"    = { integration = "message", two_way = true }
      "hello"       = { integration = "message", two_way = true }
      "subscribe"   = { integration = "message", two_way = true }
      "unsubscribe" = { integration = "message", two_way = false }
    }
  }

  assert {
    condition     = output.deployment_triggers.redeployment != var.previous_redeployment
    error_message = "A changed route (its route response removed) must create a new deployment."
  }
}

run "changed_integration_redeploys" {
  command = apply

  variables {
    previous_redeployment = run.route_becoming_one_way_redeploys.deployment_triggers.redeployment
    routes = {
      "$connect"    = { integration = "connect" }
      "$disconnect" = { integration = "disconnect" }
      "$default"    = { integration = "message", two_way = true }
      "hello"       = { integration = "message", two_way = true }
      "subscribe"   = { integration = "message", two_way = true }
      "unsubscribe" = { integration = "message", two_way = false }
    }
    integrations = {
      connect = {
        function_name        = "wskit-test-connect"
        invoke_arn           = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:wskit-test-connect/invocations"
        timeout_milliseconds = 10000
      }
      disconnect = {
        function_name = "wskit-test-disconnect"
        invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:wskit-test-disconnect/invocations"
      }
      message = {
        function_name = "wskit-test-message"
        invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:wskit-test-message/invocations"
      }
    }
  }

  assert {
    condition     = output.deployment_triggers.redeployment != var.previous_redeployment
    error_message = "Changing an integration must create a new deployment."
  }
}

run "changed_authorizer_redeploys" {
  command = apply

  variables {
    previous_redeployment = run.changed_integration_redeploys.deployment_triggers.redeployment
    routes = {
      "$connect"    = { integration = "connect" }
      "$disconnect" = { integration = "disconnect" }
      "$default"    = { integration = "message", two_way = true }
      "hello"       = { integration = "message", two_way = true }
      "subscribe"   = { integration = "message", two_way = true }
      "unsubscribe" = { integration = "message", two_way = false }
    }
    integrations = {
      connect = {
        function_name        = "wskit-test-connect"
        invoke_arn           = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:wskit-test-connect/invocations"
        timeout_milliseconds = 10000
      }
      disconnect = {
        function_name = "wskit-test-disconnect"
        invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:wskit-test-disconnect/invocations"
      }
      message = {
        function_name = "wskit-test-message"
        invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:wskit-test-message/invocations"
      }
    }
    authorizer = {
      function_name    = "wskit-test-authorizer"
      invoke_arn       = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:wskit-test-authorizer/invocations"
      identity_sources = ["route.request.header.Authorization"]
    }
  }

  assert {
    condition     = output.deployment_triggers.redeployment != var.previous_redeployment
    error_message = "Changing the authorizer's identity sources must create a new deployment."
  }
}

run "unchanged_after_apply_keeps_the_deployment" {
  command = plan

  variables {
    previous_redeployment = run.changed_authorizer_redeploys.deployment_triggers.redeployment
    routes = {
      "$connect"    = { integration = "connect" }
      "$disconnect" = { integration = "disconnect" }
      "$default"    = { integration = "message", two_way = true }
      "hello"       = { integration = "message", two_way = true }
      "subscribe"   = { integration = "message", two_way = true }
      "unsubscribe" = { integration = "message", two_way = false }
    }
    integrations = {
      connect = {
        function_name        = "wskit-test-connect"
        invoke_arn           = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:wskit-test-connect/invocations"
        timeout_milliseconds = 10000
      }
      disconnect = {
        function_name = "wskit-test-disconnect"
        invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:wskit-test-disconnect/invocations"
      }
      message = {
        function_name = "wskit-test-message"
        invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:wskit-test-message/invocations"
      }
    }
    authorizer = {
      function_name    = "wskit-test-authorizer"
      invoke_arn       = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:wskit-test-authorizer/invocations"
      identity_sources = ["route.request.header.Authorization"]
    }
  }

  assert {
    condition     = aws_apigatewayv2_deployment.this[0].triggers.redeployment == var.previous_redeployment
    error_message = "Planning the applied configuration again must not redeploy."
  }
}

run "any_identity_source_may_be_left_to_the_authorizer" {
  command = plan

  variables {
    authorizer = {
      function_name    = "wskit-test-authorizer"
      invoke_arn       = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:wskit-test-authorizer/invocations"
      identity_sources = []
    }
  }

  assert {
    condition     = length(aws_apigatewayv2_authorizer.this[0].identity_sources) == 0
    error_message = "An empty identity source list is passed through: API Gateway then invokes the authorizer for every $connect."
  }
}

run "authorizer_without_connect_route_is_rejected" {
  command = plan

  variables {
    routes = {
      "$default" = { integration = "message", two_way = true }
    }
  }

  expect_failures = [aws_apigatewayv2_authorizer.this]
}

run "header_identity_source" {
  command = plan

  variables {
    authorizer = {
      function_name    = "wskit-test-authorizer"
      invoke_arn       = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:wskit-test-authorizer/invocations"
      identity_sources = ["route.request.header.Authorization"]
    }
  }

  assert {
    condition     = aws_apigatewayv2_authorizer.this[0].identity_sources == toset(["route.request.header.Authorization"])
    error_message = "The identity source is configurable."
  }
}

run "account_logging_role_is_scoped" {
  command = apply

  variables {
    create_account_cloudwatch_role = true
  }

  override_resource {
    target = aws_iam_role.cloudwatch
    values = {
      arn = "arn:aws:iam::123456789012:role/apigateway-cloudwatch-test"
    }
  }

  override_data {
    target = data.aws_caller_identity.current
    values = {
      account_id = "123456789012"
    }
  }

  assert {
    condition     = jsondecode(aws_iam_role_policy.cloudwatch[0].policy).Statement[0].Resource == ["arn:aws:logs:eu-west-1:123456789012:log-group:*"]
    error_message = "API Gateway's logging role writes to this account's log groups in this Region only."
  }

  assert {
    condition     = alltrue([for action in jsondecode(aws_iam_role_policy.cloudwatch[0].policy).Statement[0].Action : startswith(action, "logs:") && action != "logs:*"])
    error_message = "The logging role has named logs actions only."
  }

  assert {
    condition     = jsondecode(aws_iam_role.cloudwatch[0].assume_role_policy).Statement[0].Principal.Service == "apigateway.amazonaws.com"
    error_message = "Only API Gateway may assume the logging role."
  }
}
