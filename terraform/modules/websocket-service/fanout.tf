##############################################################################
# Big topics: the fan-out queue. The message, http and broadcaster functions hand a
# publish whose audience is larger than fanout.inline_limit to this queue as shard jobs;
# the broadcaster runs them (one job per invocation, in parallel) and reports the jobs
# that failed, so only those come back. docs/big-topics.md explains the design.
##############################################################################

resource "aws_sqs_queue" "fanout_dead" {
  count = local.fanout_enabled ? 1 : 0

  name                      = "${var.name}-fanout-dead"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true

  tags = var.tags
}

resource "aws_sqs_queue" "fanout" {
  count = local.fanout_enabled ? 1 : 0

  name = "${var.name}-fanout"
  # Lambda needs at least the function's timeout; six times it lets a throttled batch wait
  # and retry before the message shows again (AWS's guidance for SQS event sources).
  visibility_timeout_seconds = max(6 * var.broadcaster.timeout, 30)
  message_retention_seconds  = var.fanout.message_retention_seconds
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.fanout_dead[0].arn
    maxReceiveCount     = var.fanout.max_receive_count
  })

  tags = var.tags
}

# Only the wskit functions that publish may send jobs (a job carries a numbered frame that
# the broadcaster delivers as is): deny every other sender, whatever their IAM allows.
resource "aws_sqs_queue_policy" "fanout" {
  count = local.fanout_enabled ? 1 : 0

  queue_url = aws_sqs_queue.fanout[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "OnlyPublishersSend"
      Effect    = "Deny"
      Principal = "*"
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.fanout[0].arn
      Condition = {
        ArnNotEquals = {
          "aws:PrincipalArn" = [for name, wiring in local.wiring : module.functions[name].role_arn if length(try(wiring.permissions.fanOutQueue, [])) > 0 && contains(local.created_functions, name)]
        }
      }
    }]
  })
}

resource "aws_iam_role_policy" "fanout_consumer" {
  count = local.fanout_enabled ? 1 : 0

  name = "fanout-queue-consumer"
  role = module.functions["broadcaster"].role_name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "ConsumeFanOutQueue"
      Effect   = "Allow"
      Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
      Resource = [aws_sqs_queue.fanout[0].arn]
    }]
  })
}

resource "aws_lambda_event_source_mapping" "fanout" {
  count = local.fanout_enabled ? 1 : 0

  event_source_arn = aws_sqs_queue.fanout[0].arn
  function_name    = module.functions["broadcaster"].function_name
  # One shard job per invocation: each is paced to its share of the quota for seconds.
  batch_size              = 1
  function_response_types = ["ReportBatchItemFailures"]

  dynamic "scaling_config" {
    for_each = var.fanout.maximum_concurrency != null ? [var.fanout.maximum_concurrency] : []

    content {
      maximum_concurrency = scaling_config.value
    }
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.fanout_consumer]
}
