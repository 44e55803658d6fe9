mock_provider "aws" {
  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      id            = "h1t2t3p4a5"
      execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:h1t2t3p4a5"
      api_endpoint  = "https://h1t2t3p4a5.execute-api.eu-west-1.amazonaws.com"
    }
  }

  mock_resource "aws_apigatewayv2_authorizer" {
    defaults = {
      id = "hauth1"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/apigateway/wskit-test-http/test/access"
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
  name       = "wskit-test-http"
  stage_name = "test"
  integrations = {
    http = {
      function_name = "wskit-test-http"
      invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:wskit-test-http/invocations"
    }
  }
  routes = {
    "GET /topics/{topic}/messages"      = { integration = "http", authorization = "token" }
    "POST /topics/{topic}/messages"     = { integration = "http", authorization = "token" }
    "GET /iam/topics/{topic}/messages"  = { integration = "http", authorization = "iam" }
    "POST /iam/topics/{topic}/messages" = { integration = "http", authorization = "iam" }
  }
  authorizer = {
    function_name = "wskit-test-authorizer"
    invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:wskit-test-authorizer/invocations"
  }
  throttling_burst_limit = 40
  throttling_rate_limit  = 20
}

run "each_route_is_authorized_as_declared" {
  command = apply

  assert {
    condition     = aws_apigatewayv2_api.this[0].protocol_type == "HTTP"
    error_message = "The API is an HTTP API."
  }

  assert {
    condition = alltrue([for key in ["GET /topics/{topic}/messages", "POST /topics/{topic}/messages"] :
      aws_apigatewayv2_route.this[key].authorization_type == "CUSTOM" && aws_apigatewayv2_route.this[key].authorizer_id == "hauth1"
    ])
    error_message = "Token routes are authorized by the Lambda authorizer."
  }

  assert {
    condition = alltrue([for key in ["GET /iam/topics/{topic}/messages", "POST /iam/topics/{topic}/messages"] :
      aws_apigatewayv2_route.this[key].authorization_type == "AWS_IAM" && aws_apigatewayv2_route.this[key].authorizer_id == null
    ])
    error_message = "IAM routes are authorized by AWS_IAM and carry no Lambda authorizer."
  }

  assert {
    condition     = toset(keys(aws_apigatewayv2_route.this)) == toset(keys(var.routes)) && alltrue([for key, route in aws_apigatewayv2_route.this : route.route_key == key])
    error_message = "Every route declared exists, with its key, and no other."
  }

  assert {
    condition     = alltrue([for route in aws_apigatewayv2_route.this : contains(["CUSTOM", "AWS_IAM"], route.authorization_type)])
    error_message = "No route is left unauthorized."
  }
}

run "the_authorizer_is_a_payload_2_simple_response_request_authorizer" {
  command = plan

  assert {
    condition = (
      aws_apigatewayv2_authorizer.this[0].authorizer_type == "REQUEST" &&
      aws_apigatewayv2_authorizer.this[0].authorizer_payload_format_version == "2.0" &&
      aws_apigatewayv2_authorizer.this[0].enable_simple_responses == true &&
      aws_apigatewayv2_authorizer.this[0].identity_sources == toset(["$request.header.Authorization"])
    )
    error_message = "The token routes' authorizer is a REQUEST authorizer with payload 2.0, simple responses, and the Authorization header as its identity source."
  }

  assert {
    condition     = aws_apigatewayv2_authorizer.this[0].authorizer_result_ttl_in_seconds == 0
    error_message = "By default API Gateway asks the authorizer on every request (no cached decisions)."
  }

  assert {
    condition     = alltrue([for integration in aws_apigatewayv2_integration.this : integration.integration_type == "AWS_PROXY" && integration.payload_format_version == "2.0" && integration.integration_method == "POST"])
    error_message = "Integrations are Lambda proxy integrations with payload format 2.0."
  }
}

run "invoke_permissions_are_scoped_to_each_route" {
  command = apply

  assert {
    condition = output.route_permissions == {
      "GET /topics/{topic}/messages"      = { function_name = "wskit-test-http", source_arn = "arn:aws:execute-api:eu-west-1:123456789012:h1t2t3p4a5/test/GET/topics/*/messages" }
      "POST /topics/{topic}/messages"     = { function_name = "wskit-test-http", source_arn = "arn:aws:execute-api:eu-west-1:123456789012:h1t2t3p4a5/test/POST/topics/*/messages" }
      "GET /iam/topics/{topic}/messages"  = { function_name = "wskit-test-http", source_arn = "arn:aws:execute-api:eu-west-1:123456789012:h1t2t3p4a5/test/GET/iam/topics/*/messages" }
      "POST /iam/topics/{topic}/messages" = { function_name = "wskit-test-http", source_arn = "arn:aws:execute-api:eu-west-1:123456789012:h1t2t3p4a5/test/POST/iam/topics/*/messages" }
    }
    error_message = "API Gateway may invoke the function for each route of this stage only: its method and path, the path parameter as *."
  }

  assert {
    condition     = length(distinct([for permission in aws_lambda_permission.routes : permission.statement_id])) == 4 && alltrue([for permission in aws_lambda_permission.routes : permission.principal == "apigateway.amazonaws.com" && can(regex("^[A-Za-z0-9_-]{1,100}$", permission.statement_id))])
    error_message = "One permission per route, each with its own valid statement id, for API Gateway only."
  }

  assert {
    condition     = aws_lambda_permission.authorizer[0].function_name == "wskit-test-authorizer" && aws_lambda_permission.authorizer[0].source_arn == "arn:aws:execute-api:eu-west-1:123456789012:h1t2t3p4a5/authorizers/hauth1"
    error_message = "The authorizer may be invoked by this API's authorizer only."
  }

  assert {
    condition     = aws_lambda_permission.authorizer[0].statement_id != "AllowInvokeAsAuthorizer"
    error_message = "The authorizer's statement id differs from the WebSocket API's, so one function can serve both APIs."
  }
}

run "access_log_never_records_credentials" {
  command = plan

  assert {
    condition = alltrue([
      for forbidden in ["header", "querystring", "authorization", "requestoverride", "body", "$input", "$request."] :
      !strcontains(lower(aws_apigatewayv2_stage.this[0].access_log_settings[0].format), forbidden)
    ])
    error_message = "The access log format never references a request header (the token or the SigV4 signature travel in Authorization), the query string or a body."
  }

  assert {
    condition = alltrue([
      for value in values(jsondecode(aws_apigatewayv2_stage.this[0].access_log_settings[0].format)) : can(regex("^\\$context\\.[A-Za-z.]+$", value))
    ])
    error_message = "Every field of the JSON access log line is one $context variable."
  }

  assert {
    condition = alltrue([
      for field in ["requestId", "routeKey", "status", "sourceIp", "userId", "iamUserArn", "authorizerError", "integrationErrorMessage"] :
      contains(keys(jsondecode(aws_apigatewayv2_stage.this[0].access_log_settings[0].format)), field)
    ])
    error_message = "The access log says who called which route with what outcome, and why an authorizer or integration failed."
  }

  assert {
    condition     = aws_apigatewayv2_stage.this[0].access_log_settings[0].destination_arn == "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/apigateway/wskit-test-http/test/access"
    error_message = "Access logs go to the module's log group."
  }
}

run "stage_throttles_and_deploys_itself" {
  command = plan

  assert {
    condition     = aws_apigatewayv2_stage.this[0].auto_deploy && aws_apigatewayv2_stage.this[0].name == "test"
    error_message = "The named stage deploys every change automatically."
  }

  assert {
    condition     = aws_apigatewayv2_stage.this[0].default_route_settings[0].throttling_burst_limit == 40 && aws_apigatewayv2_stage.this[0].default_route_settings[0].throttling_rate_limit == 20
    error_message = "The stage throttles every route."
  }
}

run "no_cors_by_default" {
  command = plan

  assert {
    condition     = length(aws_apigatewayv2_api.this[0].cors_configuration) == 0
    error_message = "Without allowed origins the API has no CORS configuration."
  }
}

run "cors_for_allowed_origins" {
  command = plan

  variables {
    cors = { allow_origins = ["https://app.example.com"] }
  }

  assert {
    condition = (
      aws_apigatewayv2_api.this[0].cors_configuration[0].allow_origins == toset(["https://app.example.com"]) &&
      aws_apigatewayv2_api.this[0].cors_configuration[0].allow_methods == toset(["GET", "POST"]) &&
      aws_apigatewayv2_api.this[0].cors_configuration[0].allow_headers == toset(["authorization", "content-type", "traceparent"]) &&
      aws_apigatewayv2_api.this[0].cors_configuration[0].expose_headers == toset(["retry-after"]) &&
      aws_apigatewayv2_api.this[0].cors_configuration[0].allow_credentials == false
    )
    error_message = "CORS allows the origins given, GET and POST, the headers the client sends, exposes Retry-After, and never credentials."
  }
}

run "cors_credentials_with_any_origin_is_rejected" {
  command = plan

  variables {
    cors = { allow_origins = ["*"], allow_credentials = true }
  }

  expect_failures = [var.cors]
}

run "cors_origin_with_a_path_is_rejected" {
  command = plan

  variables {
    cors = { allow_origins = ["https://app.example.com/"] }
  }

  expect_failures = [var.cors]
}

run "cached_authorizer_decisions_on_request" {
  command = plan

  variables {
    authorizer = {
      function_name      = "wskit-test-authorizer"
      invoke_arn         = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:wskit-test-authorizer/invocations"
      result_ttl_seconds = 60
    }
  }

  assert {
    condition     = aws_apigatewayv2_authorizer.this[0].authorizer_result_ttl_in_seconds == 60
    error_message = "A cache TTL reaches the authorizer."
  }
}

run "cached_decisions_need_an_identity_source" {
  command = plan

  variables {
    authorizer = {
      function_name      = "wskit-test-authorizer"
      invoke_arn         = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:wskit-test-authorizer/invocations"
      identity_sources   = []
      result_ttl_seconds = 60
    }
  }

  expect_failures = [var.authorizer]
}

run "token_route_without_an_authorizer_fails" {
  command = plan

  variables {
    authorizer = null
  }

  expect_failures = [aws_apigatewayv2_route.this]
}

run "iam_only_api_needs_no_authorizer" {
  command = plan

  variables {
    authorizer = null
    routes = {
      "POST /iam/topics/{topic}/messages" = { integration = "http", authorization = "iam" }
    }
  }

  assert {
    condition     = length(aws_apigatewayv2_authorizer.this) == 0 && length(aws_lambda_permission.authorizer) == 0
    error_message = "An API of IAM routes has no authorizer and no authorizer permission."
  }
}

run "unauthorized_routes_are_rejected" {
  command = plan

  variables {
    routes = {
      "GET /topics/{topic}/messages" = { integration = "http", authorization = "none" }
    }
  }

  expect_failures = [var.routes]
}

run "route_keys_are_method_and_path" {
  command = plan

  variables {
    routes = {
      "$default" = { integration = "http", authorization = "iam" }
    }
  }

  expect_failures = [var.routes]
}

run "outputs_for_clients_and_backends" {
  command = apply

  assert {
    condition     = output.url == "https://h1t2t3p4a5.execute-api.eu-west-1.amazonaws.com/test"
    error_message = "The base URL is the execute-api host with the stage."
  }

  assert {
    condition = output.iam_invoke_arns == tomap({
      "GET /iam/topics/{topic}/messages"  = "arn:aws:execute-api:eu-west-1:123456789012:h1t2t3p4a5/test/GET/iam/topics/*/messages"
      "POST /iam/topics/{topic}/messages" = "arn:aws:execute-api:eu-west-1:123456789012:h1t2t3p4a5/test/POST/iam/topics/*/messages"
    })
    error_message = "The execute-api ARNs a backend's IAM policy needs, for the iam routes only."
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition     = length(aws_apigatewayv2_api.this) == 0 && length(aws_apigatewayv2_route.this) == 0 && length(aws_lambda_permission.routes) == 0 && output.url == null && length(output.iam_invoke_arns) == 0
    error_message = "create = false creates nothing."
  }
}
