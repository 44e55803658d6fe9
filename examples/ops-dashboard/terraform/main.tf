# IOps dashboard on AWS, as a team that consumes wskit builds it: its metrics table with a
# stream, the wskit service with a broadcaster fed by an SQS queue the module creates, and the
# team's own coalescer Lambda between them. The broadcaster publishes one message per record;
# the coalescer reads the stream a batch at a time (up to a second of samples) and sends one
# METRICS_UPDATE per service to the broadcaster's queue.
#
#   metrics table --stream--> coalescer --SQS {"topic","data"}--> broadcaster --> metrics:<service>

locals {
  lambda_package_dir     = coalesce(var.lambda_package_dir, "${path.root}/../../../dist/lambda")
  coalescer_package_path = coalesce(var.coalescer_package_path, "${path.root}/../dist/lambda/coalescer.zip")
}

resource "aws_dynamodb_table" "metrics" {
  #checkov:skip=CKV_AWS_119:Example table; encryption with the AWS owned key is enough here.
  name             = "${var.name}-metrics"
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = "service"
  range_key        = "sk"
  stream_enabled   = true
  stream_view_type = "NEW_IMAGE"

  attribute {
    name = "service"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  # Samples live an hour.
  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }
}

module "websocket" {
  # How another team pins the module: a git source at a release tag (the repository's checks
  # rewrite it to the local module, so this root validates and applies against this tree).
  source = "git::https://github.com/<org>/wskit.git//terraform/modules/websocket-service?ref=v0.2.0"

  name               = var.name
  stage_name         = "live"
  lambda_package_dir = local.lambda_package_dir

  jwks_uri     = var.jwks_uri
  jwt_issuer   = var.jwt_issuer
  jwt_audience = var.jwt_audience

  public_topic_prefixes = ["metrics:"]
  log_retention_in_days = var.log_retention_in_days

  # The broadcaster on an SQS queue the module creates: the coalescer sends to it.
  broadcaster = {
    enabled     = true
    source_type = "sqs"
    batch_size  = 10
  }

  tags = var.tags
}

# The queue's ARN, for the coalescer's permission (the module outputs its URL).
data "aws_sqs_queue" "broadcast_source" {
  name = element(split("/", module.websocket.broadcaster_source_queue_url), length(split("/", module.websocket.broadcaster_source_queue_url)) - 1)
}

module "coalescer" {
  source = "git::https://github.com/<org>/wskit.git//terraform/modules/lambda-function?ref=v0.2.0"

  function_name         = "${var.name}-coalescer"
  description           = "Coalesces each metrics stream batch into one METRICS_UPDATE per service"
  package_path          = local.coalescer_package_path
  memory_size           = 256
  timeout               = 30
  log_retention_in_days = var.log_retention_in_days
  environment_variables = {
    OPS_PUBLISH_QUEUE_URL = module.websocket.broadcaster_source_queue_url
  }
  policy_statements = {
    SendToBroadcaster = {
      actions   = ["sqs:SendMessage"]
      resources = [data.aws_sqs_queue.broadcast_source.arn]
    }
  }

  tags = var.tags
}

# The stream mapping: the broadcaster module feeds any function from a stream (bounded retries,
# bisect, partial batch failures, a failure queue) and grants its role the stream reads. A
# second of samples per batch: one update per service per second.
module "metrics_stream" {
  source = "git::https://github.com/<org>/wskit.git//terraform/modules/broadcaster?ref=v0.2.0"

  name               = "${var.name}-metrics"
  function_name      = module.coalescer.function_name
  function_role_name = module.coalescer.role_name

  source_type                        = "dynamodb"
  event_source_arn                   = aws_dynamodb_table.metrics.stream_arn
  starting_position                  = "LATEST"
  batch_size                         = 1000
  maximum_batching_window_in_seconds = 1
  maximum_record_age_in_seconds      = 300
  filter_patterns                    = [jsonencode({ eventName = ["INSERT", "MODIFY"] })]

  tags = var.tags
}
