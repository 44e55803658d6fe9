provider "aws" {
  region = "eu-west-1"
}

variable "package_path" {
  description = "Broadcaster zip built by ./build.sh."
  type        = string
  default     = "../../../../../dist/lambda/broadcaster.zip"
}

# An application table whose changes are pushed to WebSocket subscribers.
resource "aws_dynamodb_table" "orders" {
  #checkov:skip=CKV_AWS_119:Example table; encryption with the AWS owned key is enough here.
  name             = "wskit-example-orders"
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = "orderId"
  stream_enabled   = true
  stream_view_type = "NEW_IMAGE"

  attribute {
    name = "orderId"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }
}

module "broadcaster_function" {
  source = "../../../lambda-function"

  function_name = "wskit-example-broadcaster"
  package_path  = var.package_path
  timeout       = 60
  environment_variables = {
    WSKIT_TABLE_NAME = "wskit-example-connections"
    WSKIT_API_ID     = "a1b2c3d4e5"
    WSKIT_STAGE      = "example"
  }
}

module "broadcaster" {
  source = "../.."

  name               = "wskit-example-orders"
  function_name      = module.broadcaster_function.function_name
  function_role_name = module.broadcaster_function.role_name
  source_type        = "dynamodb"
  event_source_arn   = aws_dynamodb_table.orders.stream_arn

  # Only new and changed orders, never deletions.
  filter_patterns = [jsonencode({ eventName = ["INSERT", "MODIFY"] })]

  batch_size                    = 100
  maximum_retry_attempts        = 3
  maximum_record_age_in_seconds = 600
}

output "failure_queue_url" {
  description = "Records that could not be delivered."
  value       = module.broadcaster.failure_queue_url
}
