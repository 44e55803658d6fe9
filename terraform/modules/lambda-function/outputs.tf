output "function_name" {
  description = "Name of the function."
  value       = try(aws_lambda_function.this[0].function_name, null)
}

output "function_arn" {
  description = "ARN of the function."
  value       = try(aws_lambda_function.this[0].arn, null)
}

output "invoke_arn" {
  description = "Invoke ARN of the function (for API Gateway integrations)."
  value       = try(aws_lambda_function.this[0].invoke_arn, null)
}

output "source_code_hash" {
  description = "Base64 SHA-256 of the deployed zip."
  value       = try(aws_lambda_function.this[0].source_code_hash, null)
}

output "role_name" {
  description = "Name of the function's execution role (attach more policies to it by name)."
  value       = try(aws_iam_role.this[0].name, null)
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = try(aws_iam_role.this[0].arn, null)
}

output "policy_json" {
  description = "The role's inline policy document (JSON)."
  value       = var.create ? local.policy_json : null
}

output "log_group_name" {
  description = "Name of the function's log group."
  value       = try(aws_cloudwatch_log_group.this[0].name, null)
}

output "log_group_arn" {
  description = "ARN of the function's log group."
  value       = try(aws_cloudwatch_log_group.this[0].arn, null)
}

output "environment_variables" {
  description = "Environment variables of the function."
  value       = try(aws_lambda_function.this[0].environment[0].variables, {})
}

output "configuration" {
  description = "Runtime settings of the function: runtime, architecture, handler, memory_size, timeout, reserved_concurrent_executions, tracing_mode, log_retention_in_days."
  value = try({
    runtime                        = aws_lambda_function.this[0].runtime
    architecture                   = one(aws_lambda_function.this[0].architectures)
    handler                        = aws_lambda_function.this[0].handler
    memory_size                    = aws_lambda_function.this[0].memory_size
    timeout                        = aws_lambda_function.this[0].timeout
    reserved_concurrent_executions = aws_lambda_function.this[0].reserved_concurrent_executions
    tracing_mode                   = aws_lambda_function.this[0].tracing_config[0].mode
    log_retention_in_days          = aws_cloudwatch_log_group.this[0].retention_in_days
  }, null)
}

output "code" {
  description = "Where the deployed code comes from: package_path (a local zip) or s3_bucket, s3_key and s3_object_version."
  value = try({
    package_path      = aws_lambda_function.this[0].filename
    s3_bucket         = aws_lambda_function.this[0].s3_bucket
    s3_key            = aws_lambda_function.this[0].s3_key
    s3_object_version = aws_lambda_function.this[0].s3_object_version
  }, null)
}
