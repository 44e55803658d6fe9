provider "aws" {
  region = "eu-west-1"
}

variable "package_path" {
  description = "Zip built by ./build.sh."
  type        = string
  default     = "../../../../../dist/lambda/connect.zip"
}

variable "table_arn" {
  description = "Table the function writes to."
  type        = string
  default     = "arn:aws:dynamodb:eu-west-1:123456789012:table/wskit-example-connections"
}

module "connect" {
  source = "../.."

  function_name = "wskit-example-connect"
  package_path  = var.package_path

  environment_variables = {
    WSKIT_TABLE_NAME               = "wskit-example-connections"
    WSKIT_MAX_CONNECTIONS_PER_USER = "10"
    WSKIT_LOG_LEVEL                = "INFO"
  }

  # What lambda/connect/wiring.json lists: the connection, the user's item (its slots) and
  # the reclaim of stale slots, all on the table itself (it has no secondary index).
  policy_statements = {
    Connections = {
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"]
      resources = [var.table_arn]
    }
  }

  log_retention_in_days = 14

  tags = {
    Project = "wskit-example"
  }
}

output "function_name" {
  description = "Name of the function."
  value       = module.connect.function_name
}

output "role_arn" {
  description = "Execution role."
  value       = module.connect.role_arn
}
