output "event_source_mapping_uuid" {
  description = "UUID of the event source mapping."
  value       = try(aws_lambda_event_source_mapping.this[0].uuid, null)
}

output "event_source_mapping_arn" {
  description = "ARN of the event source mapping."
  value       = try(aws_lambda_event_source_mapping.this[0].arn, null)
}

output "event_source_arn" {
  description = "ARN of the stream or queue the mapping reads."
  value       = var.create ? local.source_arn : null
}

output "source_queue_url" {
  description = "URL of the source queue the module created (send {\"topic\": ..., \"data\": ...} messages here), null otherwise."
  value       = try(aws_sqs_queue.source[0].url, null)
}

output "source_queue_arn" {
  description = "ARN of the source queue the module created, null otherwise."
  value       = try(aws_sqs_queue.source[0].arn, null)
}

output "failure_queue_url" {
  description = "URL of the failure queue the module created, null otherwise."
  value       = try(aws_sqs_queue.failures[0].url, null)
}

output "failure_queue_arn" {
  description = "ARN of the queue that receives failed records (created or passed in)."
  value       = var.create ? local.failure_queue_arn : null
}

output "failure_queue_name" {
  description = "Name of the failure queue the module created (for a queue-depth alarm), null otherwise."
  value       = try(aws_sqs_queue.failures[0].name, null)
}

output "policy_statements" {
  description = "The statements the mapping needs, in the lambda-function module's policy_statements format."
  value       = var.create ? local.policy_statements : {}
}

output "policy_json" {
  description = "The same statements as an IAM policy document (JSON)."
  value       = var.create ? local.policy_json : null
}
