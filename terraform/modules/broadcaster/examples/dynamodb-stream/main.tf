provider "aws" {
  region = "eu-west-1"
}

# A broadcaster of your own beside a deployed wskit service (the websocket-service module's
# outputs table_name, api_id and stage_name), fed by an application table's stream: every
# change to an order is pushed to its customer's own topic, user:<customerId>.
#
# What delivery needs, all here: the mapping and the stream reads (the broadcaster module),
# the topic mapping (WSKIT_STREAM_TOPIC_TEMPLATE: the orders carry no topic attribute), and the
# function's own permissions on the service (the connections table and the stage's
# @connections), taken from the broadcaster's wiring manifest as the websocket-service module
# takes them.

variable "package_path" {
  description = "Broadcaster zip built by ./build.sh."
  type        = string
  default     = "../../../../../dist/lambda/broadcaster.zip"
}

variable "connections_table_name" {
  description = "The wskit service's connections table (websocket-service output table_name)."
  type        = string
  default     = "wskit-example-connections"
}

variable "api_id" {
  description = "The wskit service's WebSocket API id (websocket-service output api_id)."
  type        = string
  default     = "a1b2c3d4e5"
}

variable "stage_name" {
  description = "The API's stage (websocket-service output stage_name)."
  type        = string
  default     = "example"
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  # What the broadcaster calls: the manifest beside its code (the file the websocket-service
  # module reads, at the same tag).
  wiring = jsondecode(file("${path.module}/../../../../../lambda/broadcaster/wiring.json"))

  account            = data.aws_caller_identity.current.account_id
  partition          = data.aws_partition.current.partition
  region             = data.aws_region.current.id
  connections_table  = "arn:${local.partition}:dynamodb:${local.region}:${local.account}:table/${var.connections_table_name}"
  stage_execute_arns = [for method in local.wiring.permissions.manageConnections : "arn:${local.partition}:execute-api:${local.region}:${local.account}:${var.api_id}/${var.stage_name}/${method}/@connections/*"]
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
    WSKIT_TABLE_NAME = var.connections_table_name
    WSKIT_API_ID     = var.api_id
    WSKIT_STAGE      = var.stage_name
    # Each order to its customer: user:<sub> is the one topic a signed-in user always may follow.
    WSKIT_STREAM_TOPIC_TEMPLATE = "user:$${customerId}"
  }
  policy_statements = merge(
    length(local.wiring.permissions.dynamodb) == 0 ? {} : {
      ConnectionsTable = {
        actions   = [for action in local.wiring.permissions.dynamodb : "dynamodb:${action}"]
        resources = [local.connections_table]
      }
    },
    length(local.wiring.permissions.manageConnections) == 0 ? {} : {
      ManageConnections = {
        actions   = ["execute-api:ManageConnections"]
        resources = local.stage_execute_arns
      }
    },
  )
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
