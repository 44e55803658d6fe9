output "table_name" {
  description = "Name of the table (the WSKIT_TABLE_NAME of the functions)."
  value       = try(aws_dynamodb_table.this[0].name, null)
}

output "table_arn" {
  description = "ARN of the table."
  value       = try(aws_dynamodb_table.this[0].arn, null)
}

output "table_id" {
  description = "ID of the table."
  value       = try(aws_dynamodb_table.this[0].id, null)
}

output "index_arns" {
  description = "Map of global secondary index name to its ARN (for IAM statements that query an index)."
  value       = try({ for index in local.definition.globalSecondaryIndexes : index.name => "${aws_dynamodb_table.this[0].arn}/index/${index.name}" }, {})
}

output "stream_arn" {
  description = "ARN of the table's stream, null when the stream is disabled."
  value       = try(aws_dynamodb_table.this[0].stream_arn, null)
}

output "ttl_attribute" {
  description = "Name of the TTL attribute (epoch seconds)."
  value       = local.definition.ttlAttribute
}

output "deletion_protection_enabled" {
  description = "Whether the table is protected from deletion."
  value       = try(aws_dynamodb_table.this[0].deletion_protection_enabled, null)
}
