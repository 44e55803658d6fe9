output "api_id" {
  description = "ID of the HTTP API."
  value       = try(aws_apigatewayv2_api.this[0].id, null)
}

output "api_arn" {
  description = "ARN of the HTTP API (for tagging and management policies, not for calling it)."
  value       = try(aws_apigatewayv2_api.this[0].arn, null)
}

output "api_endpoint" {
  description = "Endpoint of the API without the stage: https://<apiId>.execute-api.<region>.amazonaws.com."
  value       = try(aws_apigatewayv2_api.this[0].api_endpoint, null)
}

output "execution_arn" {
  description = "Execution ARN of the API (arn:aws:execute-api:<region>:<account>:<apiId>); append /<stage>/<METHOD>/<path> for execute-api:Invoke statements."
  value       = try(aws_apigatewayv2_api.this[0].execution_arn, null)
}

output "stage_name" {
  description = "Name of the stage."
  value       = try(aws_apigatewayv2_stage.this[0].name, null)
}

output "url" {
  description = "Base URL of the routes: https://<apiId>.execute-api.<region>.<partition DNS suffix>/<stage> (the routes' paths follow, e.g. /topics/{topic}/messages)."
  value       = try("https://${aws_apigatewayv2_api.this[0].id}.execute-api.${data.aws_region.current.id}.${data.aws_partition.current.dns_suffix}/${aws_apigatewayv2_stage.this[0].name}", null)
}

output "authorizer_id" {
  description = "ID of the Lambda authorizer of the token routes, null when there is none."
  value       = try(aws_apigatewayv2_authorizer.this[0].id, null)
}

output "authorizer" {
  description = "The Lambda authorizer of the token routes (id, authorizer_uri, identity_sources, result_ttl_seconds, payload_format_version, enable_simple_responses), null when there is none."
  value = try({
    id                      = aws_apigatewayv2_authorizer.this[0].id
    authorizer_uri          = aws_apigatewayv2_authorizer.this[0].authorizer_uri
    identity_sources        = aws_apigatewayv2_authorizer.this[0].identity_sources
    result_ttl_seconds      = aws_apigatewayv2_authorizer.this[0].authorizer_result_ttl_in_seconds
    payload_format_version  = aws_apigatewayv2_authorizer.this[0].authorizer_payload_format_version
    enable_simple_responses = aws_apigatewayv2_authorizer.this[0].enable_simple_responses
  }, null)
}

output "cors_allow_origins" {
  description = "Origins the API's CORS configuration allows (empty: no CORS configuration)."
  value       = try(aws_apigatewayv2_api.this[0].cors_configuration[0].allow_origins, toset([]))
}

output "throttling" {
  description = "Default route throttling of the stage: burst_limit (requests) and rate_limit (requests per second)."
  value = try({
    burst_limit = aws_apigatewayv2_stage.this[0].default_route_settings[0].throttling_burst_limit
    rate_limit  = aws_apigatewayv2_stage.this[0].default_route_settings[0].throttling_rate_limit
  }, null)
}

output "routes" {
  description = "Map of route key to its route ID, authorization type (CUSTOM for token routes, AWS_IAM for iam routes) and authorizer ID."
  value = {
    for key, route in aws_apigatewayv2_route.this : key => {
      route_id           = route.id
      authorization_type = route.authorization_type
      authorizer_id      = route.authorizer_id
    }
  }
}

output "route_permissions" {
  description = "Map of route key to the Lambda permission that lets this stage's route invoke its function: function_name and source_arn."
  value       = { for key, permission in aws_lambda_permission.routes : key => { function_name = permission.function_name, source_arn = permission.source_arn } }
}

output "iam_invoke_arns" {
  description = "Map of each iam route's key to the execute-api ARN a caller's IAM policy must allow (execute-api:Invoke), path parameters as *: arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path>."
  value       = var.create ? { for key in local.iam_routes : key => "${local.execution_arn}/${var.stage_name}/${local.route_arn_paths[key]}" } : {}
}

output "integration_uris" {
  description = "Map of integration key to its integration URI (the Lambda function's invoke ARN)."
  value       = { for key, integration in aws_apigatewayv2_integration.this : key => integration.integration_uri }
}

output "access_log_group_name" {
  description = "Name of the stage's access log group."
  value       = try(aws_cloudwatch_log_group.access[0].name, null)
}

output "access_log_group_arn" {
  description = "ARN of the stage's access log group."
  value       = try(aws_cloudwatch_log_group.access[0].arn, null)
}

output "access_log_retention_in_days" {
  description = "Retention of the access log group, in days."
  value       = try(aws_cloudwatch_log_group.access[0].retention_in_days, null)
}
