data "aws_partition" "current" {}

data "aws_region" "current" {}

data "aws_caller_identity" "current" {
  count = var.create && var.create_account_cloudwatch_role ? 1 : 0
}

locals {
  execution_arn = try(aws_apigatewayv2_api.this[0].execution_arn, "")

  two_way_routes = { for key, route in var.routes : key => route if route.two_way }

  # Statement ids allow letters, digits, '-' and '_': "$connect" becomes "connect".
  route_statement_ids = { for key in keys(var.routes) : key => "AllowInvokeFromRoute-${replace(replace(key, "$", ""), ".", "_")}" }

  # One JSON line per request. It never records the query string (the token travels there),
  # request headers, or any other part of the request that could carry a credential.
  access_log_format = jsonencode({
    requestId          = "$context.requestId"
    extendedRequestId  = "$context.extendedRequestId"
    requestTime        = "$context.requestTime"
    requestTimeEpoch   = "$context.requestTimeEpoch"
    apiId              = "$context.apiId"
    stage              = "$context.stage"
    routeKey           = "$context.routeKey"
    eventType          = "$context.eventType"
    connectionId       = "$context.connectionId"
    messageId          = "$context.messageId"
    status             = "$context.status"
    sourceIp           = "$context.identity.sourceIp"
    userAgent          = "$context.identity.userAgent"
    principalId        = "$context.authorizer.principalId"
    authorizerStatus   = "$context.authorizer.status"
    authorizerError    = "$context.authorizer.error"
    authorizerLatency  = "$context.authorizer.latency"
    integrationStatus  = "$context.integration.status"
    integrationError   = "$context.integration.error"
    integrationLatency = "$context.integration.latency"
    errorMessage       = "$context.error.message"
    errorResponseType  = "$context.error.responseType"
  })

}

resource "aws_apigatewayv2_api" "this" {
  count = var.create ? 1 : 0

  name                       = var.name
  description                = var.description
  protocol_type              = "WEBSOCKET"
  route_selection_expression = var.route_selection_expression

  tags = var.tags
}

resource "aws_apigatewayv2_integration" "this" {
  for_each = var.create ? var.integrations : {}

  api_id               = aws_apigatewayv2_api.this[0].id
  description          = "Lambda proxy integration ${each.key}"
  integration_type     = "AWS_PROXY"
  integration_method   = "POST"
  integration_uri      = each.value.invoke_arn
  passthrough_behavior = "WHEN_NO_MATCH"
  timeout_milliseconds = each.value.timeout_milliseconds
  connection_type      = "INTERNET"
}

resource "aws_apigatewayv2_authorizer" "this" {
  count = var.create && var.authorizer != null ? 1 : 0

  api_id           = aws_apigatewayv2_api.this[0].id
  name             = var.authorizer.name
  authorizer_type  = "REQUEST"
  authorizer_uri   = var.authorizer.invoke_arn
  identity_sources = var.authorizer.identity_sources

  lifecycle {
    precondition {
      condition     = contains(keys(var.routes), "$connect")
      error_message = "An authorizer needs a $connect route: WebSocket APIs authorize on $connect only."
    }
  }
}

resource "aws_apigatewayv2_route" "this" {
  for_each = var.create ? var.routes : {}

  #checkov:skip=CKV_AWS_309:WebSocket APIs authorize on $connect only (it carries the authorizer); API Gateway accepts no authorizer on the other routes, which run on the already authorized connection.

  api_id                              = aws_apigatewayv2_api.this[0].id
  route_key                           = each.key
  target                              = "integrations/${aws_apigatewayv2_integration.this[each.value.integration].id}"
  authorization_type                  = each.key == "$connect" && var.authorizer != null ? "CUSTOM" : "NONE"
  authorizer_id                       = each.key == "$connect" ? try(aws_apigatewayv2_authorizer.this[0].id, null) : null
  route_response_selection_expression = each.value.two_way ? "$default" : null

  lifecycle {
    precondition {
      condition     = contains(keys(var.integrations), each.value.integration)
      error_message = "Route ${each.key} names integration \"${each.value.integration}\", which var.integrations does not define."
    }
  }
}

resource "aws_apigatewayv2_route_response" "this" {
  for_each = var.create ? local.two_way_routes : {}

  api_id             = aws_apigatewayv2_api.this[0].id
  route_id           = aws_apigatewayv2_route.this[each.key].id
  route_response_key = "$default"
}

resource "aws_apigatewayv2_deployment" "this" {
  count = var.create ? 1 : 0

  api_id = aws_apigatewayv2_api.this[0].id
  # A fingerprint of the deployed resources themselves: the id and the settings that shape
  # what API Gateway does, of each route, integration, route response and the authorizer.
  # Any change to one of them, or a replaced one (a new id), redeploys; the stage then
  # points at the new deployment. Empty and null read back alike (coalesce), so a refresh
  # that turns one into the other never redeploys.
  description = "wskit deployment"
  triggers = {
    redeployment = sha1(jsonencode({
      route_selection_expression = aws_apigatewayv2_api.this[0].route_selection_expression
      routes = {
        for key, route in aws_apigatewayv2_route.this : key => [
          route.id, route.route_key, route.target, route.authorization_type,
          coalesce(route.authorizer_id, "-"), coalesce(route.route_response_selection_expression, "-"),
        ]
      }
      integrations = {
        for key, integration in aws_apigatewayv2_integration.this : key => [
          integration.id, integration.integration_type, integration.integration_method, integration.integration_uri,
          coalesce(integration.passthrough_behavior, "-"), coalesce(integration.timeout_milliseconds, 0),
        ]
      }
      route_responses = {
        for key, response in aws_apigatewayv2_route_response.this : key => [response.id, response.route_id, response.route_response_key]
      }
      authorizer = [
        for authorizer in aws_apigatewayv2_authorizer.this : [
          authorizer.id, authorizer.authorizer_type, authorizer.authorizer_uri, authorizer.name,
          join(",", sort(try(tolist(authorizer.identity_sources), []))),
        ]
      ]
    }))
  }

  lifecycle {
    create_before_destroy = true
  }

}

resource "aws_cloudwatch_log_group" "access" {
  count = var.create ? 1 : 0

  #checkov:skip=CKV_AWS_338:Retention is set per environment (access_log_retention_in_days: 7/30/90 days in dev/staging/prod); access logs lose their value within weeks and cost grows with traffic.
  #checkov:skip=CKV_AWS_158:Log groups are encrypted by CloudWatch Logs by default; access_log_kms_key_arn adds a customer managed key where policy requires one.

  name              = "/aws/apigateway/${var.name}/${var.stage_name}/access"
  retention_in_days = var.access_log_retention_in_days
  kms_key_id        = var.access_log_kms_key_arn

  tags = var.tags
}

resource "aws_apigatewayv2_stage" "this" {
  count = var.create ? 1 : 0

  #checkov:skip=CKV2_AWS_51:WebSocket APIs do not support client certificates; clients authenticate with a JWT checked by the $connect authorizer.

  api_id        = aws_apigatewayv2_api.this[0].id
  name          = var.stage_name
  description   = "wskit stage ${var.stage_name}"
  deployment_id = aws_apigatewayv2_deployment.this[0].id
  auto_deploy   = false

  default_route_settings {
    data_trace_enabled       = false
    detailed_metrics_enabled = var.detailed_metrics_enabled
    logging_level            = var.logging_level
    throttling_burst_limit   = var.throttling_burst_limit
    throttling_rate_limit    = var.throttling_rate_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access[0].arn
    format          = local.access_log_format
  }

  tags = var.tags

  depends_on = [aws_api_gateway_account.this]
}

resource "aws_lambda_permission" "routes" {
  for_each = var.create ? var.routes : {}

  statement_id  = local.route_statement_ids[each.key]
  action        = "lambda:InvokeFunction"
  function_name = var.integrations[each.value.integration].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${local.execution_arn}/${var.stage_name}/${each.key}"
}

resource "aws_lambda_permission" "authorizer" {
  count = var.create && var.authorizer != null ? 1 : 0

  statement_id  = "AllowInvokeAsAuthorizer"
  action        = "lambda:InvokeFunction"
  function_name = var.authorizer.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${local.execution_arn}/authorizers/${aws_apigatewayv2_authorizer.this[0].id}"
}

# Account-wide: API Gateway writes WebSocket access and execution logs with this role.
resource "aws_iam_role" "cloudwatch" {
  count = var.create && var.create_account_cloudwatch_role ? 1 : 0

  name_prefix = "apigateway-cloudwatch-"
  description = "Lets API Gateway write access and execution logs to CloudWatch Logs in this account"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "ApiGatewayAssumeRole"
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "apigateway.amazonaws.com" }
    }]
  })

  tags = var.tags
}

# What AmazonAPIGatewayPushToCloudWatchLogs grants, but only on this account's log groups in this Region.
resource "aws_iam_role_policy" "cloudwatch" {
  count = var.create && var.create_account_cloudwatch_role ? 1 : 0

  name = "push-to-cloudwatch-logs"
  role = aws_iam_role.cloudwatch[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid    = "WriteApiGatewayLogs"
      Effect = "Allow"
      Action = [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
        "logs:GetLogEvents",
        "logs:FilterLogEvents",
      ]
      Resource = ["arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.id}:${try(data.aws_caller_identity.current[0].account_id, "")}:log-group:*"]
    }]
  })
}

resource "aws_api_gateway_account" "this" {
  count = var.create && var.create_account_cloudwatch_role ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.cloudwatch[0].arn

  depends_on = [aws_iam_role_policy.cloudwatch]
}
