data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  execution_arn = try(aws_apigatewayv2_api.this[0].execution_arn, "")

  cors_enabled = length(var.cors.allow_origins) > 0

  # "GET /topics/{topic}/messages" -> method GET, path /topics/*/messages: the part of an
  # execute-api ARN after the stage. A path parameter becomes *, which matches the value
  # whether API Gateway names the route's template or the request's path.
  route_arn_paths = {
    for key in keys(var.routes) : key => "${split(" ", key)[0]}${replace(split(" ", key)[1], "/\\{[A-Za-z0-9_]+\\}/", "*")}"
  }

  # Statement ids allow letters, digits, '-' and '_', at most 100 characters; the hash keeps
  # two route keys that differ only in other characters apart.
  route_statement_ids = {
    for key in keys(var.routes) : key => "AllowHttpApiRoute-${substr(replace(key, "/[^A-Za-z0-9_-]/", "_"), 0, 60)}-${substr(sha1(key), 0, 8)}"
  }

  iam_routes = [for key, route in var.routes : key if route.authorization == "iam"]

  # One JSON line per request. It never records a request header (the Authorization header
  # carries the token or the SigV4 signature), the query string, or a body: only the
  # method, the path, the route and what API Gateway and the integration made of them.
  # userId is the verified subject the authorizer returned; iamUserArn the IAM caller.
  access_log_format = jsonencode({
    requestId               = "$context.requestId"
    extendedRequestId       = "$context.extendedRequestId"
    requestTime             = "$context.requestTime"
    requestTimeEpoch        = "$context.requestTimeEpoch"
    apiId                   = "$context.apiId"
    stage                   = "$context.stage"
    routeKey                = "$context.routeKey"
    httpMethod              = "$context.httpMethod"
    path                    = "$context.path"
    protocol                = "$context.protocol"
    status                  = "$context.status"
    responseLength          = "$context.responseLength"
    responseLatency         = "$context.responseLatency"
    sourceIp                = "$context.identity.sourceIp"
    userAgent               = "$context.identity.userAgent"
    userId                  = "$context.authorizer.userId"
    iamUserArn              = "$context.identity.userArn"
    authorizerError         = "$context.authorizer.error"
    integrationStatus       = "$context.integration.status"
    integrationLatency      = "$context.integration.latency"
    integrationError        = "$context.integration.error"
    integrationErrorMessage = "$context.integrationErrorMessage"
    errorMessage            = "$context.error.message"
    errorResponseType       = "$context.error.responseType"
  })
}

resource "aws_apigatewayv2_api" "this" {
  count = var.create ? 1 : 0

  name          = var.name
  description   = var.description
  protocol_type = "HTTP"

  dynamic "cors_configuration" {
    for_each = local.cors_enabled ? [var.cors] : []

    content {
      allow_origins     = cors_configuration.value.allow_origins
      allow_methods     = cors_configuration.value.allow_methods
      allow_headers     = cors_configuration.value.allow_headers
      expose_headers    = cors_configuration.value.expose_headers
      max_age           = cors_configuration.value.max_age_seconds
      allow_credentials = cors_configuration.value.allow_credentials
    }
  }

  tags = var.tags
}

resource "aws_apigatewayv2_integration" "this" {
  for_each = var.create ? var.integrations : {}

  api_id                 = aws_apigatewayv2_api.this[0].id
  description            = "Lambda proxy integration ${each.key}"
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = each.value.invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = each.value.timeout_milliseconds
  connection_type        = "INTERNET"
}

resource "aws_apigatewayv2_authorizer" "this" {
  count = var.create && var.authorizer != null ? 1 : 0

  api_id                            = aws_apigatewayv2_api.this[0].id
  name                              = var.authorizer.name
  authorizer_type                   = "REQUEST"
  authorizer_uri                    = var.authorizer.invoke_arn
  authorizer_payload_format_version = "2.0"
  enable_simple_responses           = true
  identity_sources                  = var.authorizer.identity_sources
  authorizer_result_ttl_in_seconds  = var.authorizer.result_ttl_seconds
}

resource "aws_apigatewayv2_route" "this" {
  for_each = var.create ? var.routes : {}

  api_id             = aws_apigatewayv2_api.this[0].id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.this[each.value.integration].id}"
  authorization_type = each.value.authorization == "iam" ? "AWS_IAM" : "CUSTOM"
  authorizer_id      = each.value.authorization == "token" ? try(aws_apigatewayv2_authorizer.this[0].id, null) : null

  lifecycle {
    precondition {
      condition     = contains(keys(var.integrations), each.value.integration)
      error_message = "Route ${each.key} names integration \"${each.value.integration}\", which var.integrations does not define."
    }

    precondition {
      condition     = each.value.authorization != "token" || var.authorizer != null
      error_message = "Route ${each.key} is a token route, but var.authorizer is null: pass the Lambda authorizer, or make the route \"iam\"."
    }
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

# HTTP APIs deploy every change of a route, an integration or the authorizer to an
# auto-deploy stage by themselves: no deployment resource to fingerprint and replace.
resource "aws_apigatewayv2_stage" "this" {
  count = var.create ? 1 : 0

  #checkov:skip=CKV2_AWS_51:Callers authenticate with a JWT (the Lambda authorizer) or SigV4 (AWS_IAM); client certificates (mutual TLS) need a custom domain and are not part of this API.

  api_id      = aws_apigatewayv2_api.this[0].id
  name        = var.stage_name
  description = "wskit HTTP stage ${var.stage_name}"
  auto_deploy = true

  default_route_settings {
    detailed_metrics_enabled = var.detailed_metrics_enabled
    throttling_burst_limit   = var.throttling_burst_limit
    throttling_rate_limit    = var.throttling_rate_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access[0].arn
    format          = local.access_log_format
  }

  tags = var.tags
}

resource "aws_lambda_permission" "routes" {
  for_each = var.create ? var.routes : {}

  statement_id  = local.route_statement_ids[each.key]
  action        = "lambda:InvokeFunction"
  function_name = var.integrations[each.value.integration].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${local.execution_arn}/${var.stage_name}/${local.route_arn_paths[each.key]}"
}

resource "aws_lambda_permission" "authorizer" {
  count = var.create && var.authorizer != null ? 1 : 0

  statement_id  = "AllowInvokeAsHttpApiAuthorizer"
  action        = "lambda:InvokeFunction"
  function_name = var.authorizer.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${local.execution_arn}/authorizers/${aws_apigatewayv2_authorizer.this[0].id}"
}
