output "wss_url" {
  description = "URL clients connect to (add ?token=<JWT>): the custom domain when set, otherwise wss://<apiId>.execute-api.<region>.amazonaws.com/<stage>."
  value       = local.custom_domain ? "wss://${var.domain_name}" : module.api.wss_url
}

output "execute_api_wss_url" {
  description = "The API's own wss:// URL (works with or without a custom domain)."
  value       = module.api.wss_url
}

output "callback_url" {
  description = "Management API base URL for @connections calls: https://<apiId>.execute-api.<region>.amazonaws.com/<stage> (never the custom domain, which has no @connections route)."
  value       = module.api.callback_url
}

output "api_id" {
  description = "ID of the WebSocket API."
  value       = module.api.api_id
}

output "api_execution_arn" {
  description = "Execution ARN of the API."
  value       = module.api.execution_arn
}

output "stage_name" {
  description = "Name of the stage."
  value       = module.api.stage_name
}

output "manage_connections_arns" {
  description = "execute-api:ManageConnections ARNs of the stage by method, for other services that push to connections."
  value       = module.api.manage_connections_arns
}

output "http_api_url" {
  description = "Base URL of the HTTP API (https://<apiId>.execute-api.<region>.amazonaws.com/<stage>): the client's httpUrl; routes /topics/{topic}/messages (Authorization: Bearer <JWT>) and /iam/topics/{topic}/messages (SigV4). Null when http_api is disabled."
  value       = module.http_api.url
}

output "http_api_endpoint" {
  description = "Endpoint of the HTTP API without the stage, null when disabled."
  value       = module.http_api.api_endpoint
}

output "http_api_id" {
  description = "ID of the HTTP API, null when disabled."
  value       = module.http_api.api_id
}

output "http_api_execution_arn" {
  description = "Execution ARN of the HTTP API (arn:aws:execute-api:<region>:<account>:<apiId>), null when disabled."
  value       = module.http_api.execution_arn
}

output "http_api_iam_invoke_arns" {
  description = "The execute-api ARNs a backend's IAM policy allows (execute-api:Invoke) to call the /iam routes, keyed by route (\"POST /iam/topics/{topic}/messages\" => arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/POST/iam/topics/*/messages). Empty when disabled."
  value       = module.http_api.iam_invoke_arns
}

output "http_api_cors_allow_origins" {
  description = "Origins whose browser pages may call the HTTP API (its CORS configuration); empty: no CORS."
  value       = module.http_api.cors_allow_origins
}

output "table_name" {
  description = "Name of the connections table."
  value       = module.table.table_name
}

output "table_arn" {
  description = "ARN of the connections table."
  value       = module.table.table_arn
}

output "table_deletion_protection_enabled" {
  description = "Whether the connections table is protected from deletion."
  value       = module.table.deletion_protection_enabled
}

output "log_retention_in_days" {
  description = "Retention of the API access logs and of every function log group, in days."
  value       = module.api.access_log_retention_in_days
}

output "function_names" {
  description = "Function names keyed by connect, disconnect, message, authorizer, http (with the HTTP API) and broadcaster (when enabled)."
  value       = { for key, function in module.functions : key => function.function_name if function.function_name != null }
}

output "function_arns" {
  description = "Function ARNs keyed like function_names."
  value       = { for key, function in module.functions : key => function.function_arn if function.function_arn != null }
}

output "function_role_arns" {
  description = "Execution role ARNs keyed like function_names."
  value       = { for key, function in module.functions : key => function.role_arn if function.role_arn != null }
}

output "log_group_names" {
  description = "Log groups: one per function, plus access for the API access logs."
  value = merge(
    { for key, function in module.functions : key => function.log_group_name if function.log_group_name != null },
    { access = module.api.access_log_group_name },
    module.http_api.access_log_group_name == null ? {} : { http_access = module.http_api.access_log_group_name },
  )
}

output "broadcaster_source_queue_url" {
  description = "Queue applications send {\"topic\": ..., \"data\": ...} to, when the broadcaster created one."
  value       = module.broadcaster.source_queue_url
}

output "broadcaster_failure_queue_url" {
  description = "Queue holding records the broadcaster could not deliver, when it created one."
  value       = module.broadcaster.failure_queue_url
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify, null when none."
  value       = module.monitoring.sns_topic_arn
}

output "alarm_names" {
  description = "Names of the CloudWatch alarms."
  value       = module.monitoring.alarm_names
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = module.monitoring.dashboard_name
}

output "custom_domain_target" {
  description = "Regional API Gateway host the custom domain points to (for DNS outside Route 53), null without a custom domain."
  value       = try(aws_apigatewayv2_domain_name.this[0].domain_name_configuration[0].target_domain_name, null)
}

output "settings" {
  description = "The settings the wiring manifests' environments are resolved against (setting key => value; null settings are left out of every environment). Configuration only: no secret is a setting."
  value       = local.settings
}

output "function_code" {
  description = "Where each function's code comes from, keyed like function_names: package_path, or s3_bucket, s3_key and s3_object_version."
  value       = { for key, function in module.functions : key => function.code if function.code != null }
}

output "function_reserved_concurrency" {
  description = "Reserved concurrency of each function, keyed like function_names (-1: unreserved)."
  value       = { for key, function in module.functions : key => function.configuration.reserved_concurrent_executions if function.configuration != null }
}

output "function_tracing_modes" {
  description = "X-Ray tracing mode of each function, keyed like function_names."
  value       = { for key, function in module.functions : key => function.configuration.tracing_mode if function.configuration != null }
}
