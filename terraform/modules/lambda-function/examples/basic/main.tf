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

  policy_statements = {
    WriteConnection = {
      actions   = ["dynamodb:PutItem", "dynamodb:DeleteItem"]
      resources = [var.table_arn]
    }
    CountUserConnections = {
      actions   = ["dynamodb:Query"]
      resources = ["${var.table_arn}/index/byUser"]
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
