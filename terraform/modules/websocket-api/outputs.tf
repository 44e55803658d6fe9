output "api_id" {
  description = "ID of the WebSocket API."
  value       = try(aws_apigatewayv2_api.this[0].id, null)
}

output "api_arn" {
  description = "ARN of the WebSocket API."
  value       = try(aws_apigatewayv2_api.this[0].arn, null)
}

output "api_endpoint" {
  description = "Endpoint of the API without the stage (wss://<apiId>.execute-api.<region>.amazonaws.com)."
  value       = try(aws_apigatewayv2_api.this[0].api_endpoint, null)
}

output "execution_arn" {
  description = "Execution ARN of the API (arn:aws:execute-api:<region>:<account>:<apiId>)."
  value       = try(aws_apigatewayv2_api.this[0].execution_arn, null)
}

output "stage_name" {
  description = "Name of the stage."
  value       = try(aws_apigatewayv2_stage.this[0].name, null)
}

output "stage_arn" {
  description = "ARN of the stage."
  value       = try(aws_apigatewayv2_stage.this[0].arn, null)
}

output "wss_url" {
  description = "URL clients connect to: wss://<apiId>.execute-api.<region>.amazonaws.com/<stage>."
  value       = try("wss://${aws_apigatewayv2_api.this[0].id}.execute-api.${data.aws_region.current.id}.${data.aws_partition.current.dns_suffix}/${aws_apigatewayv2_stage.this[0].name}", null)
}

output "callback_url" {
  description = "Management API base URL for @connections calls: https://<apiId>.execute-api.<region>.amazonaws.com/<stage>."
  value       = try("https://${aws_apigatewayv2_api.this[0].id}.execute-api.${data.aws_region.current.id}.${data.aws_partition.current.dns_suffix}/${aws_apigatewayv2_stage.this[0].name}", null)
}

output "manage_connections_arns" {
  description = "execute-api:ManageConnections resource ARNs of this stage, by HTTP method (POST sends, GET reads, DELETE disconnects)."
  value = var.create ? {
    for method in ["POST", "GET", "DELETE"] : method => "${local.execution_arn}/${var.stage_name}/${method}/@connections/*"
  } : {}
}

output "authorizer_id" {
  description = "ID of the $connect authorizer, null when there is none."
  value       = try(aws_apigatewayv2_authorizer.this[0].id, null)
}

output "routes" {
  description = "Map of route key to its route ID, authorization type and whether it is two-way."
  value = {
    for key, route in aws_apigatewayv2_route.this : key => {
      route_id           = route.id
      authorization_type = route.authorization_type
      two_way            = route.route_response_selection_expression == "$default"
    }
  }
}

output "authorizer_identity_sources" {
  description = "Identity sources of the $connect authorizer, null when there is none."
  value       = try(tolist(aws_apigatewayv2_authorizer.this[0].identity_sources), null)
}

output "deployment_id" {
  description = "ID of the deployment the stage serves."
  value       = try(aws_apigatewayv2_deployment.this[0].id, null)
}

output "deployment_triggers" {
  description = "Fingerprint of the deployed routes, integrations, route responses and authorizer; a change creates a new deployment."
  value       = try(aws_apigatewayv2_deployment.this[0].triggers, null)
}

output "access_log_group_name" {
  description = "Name of the stage's access log group."
  value       = try(aws_cloudwatch_log_group.access[0].name, null)
}

output "access_log_retention_in_days" {
  description = "Retention of the access log group, in days."
  value       = try(aws_cloudwatch_log_group.access[0].retention_in_days, null)
}

output "access_log_group_arn" {
  description = "ARN of the stage's access log group."
  value       = try(aws_cloudwatch_log_group.access[0].arn, null)
}

output "integration_uris" {
  description = "Map of integration key to its integration URI (the Lambda function's invoke ARN)."
  value       = { for key, integration in aws_apigatewayv2_integration.this : key => integration.integration_uri }
}

output "route_permissions" {
  description = "Map of route key to the Lambda permission that lets this stage's route invoke its function: function_name and source_arn."
  value       = { for key, permission in aws_lambda_permission.routes : key => { function_name = permission.function_name, source_arn = permission.source_arn } }
}
