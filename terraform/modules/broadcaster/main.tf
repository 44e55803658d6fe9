locals {
  is_stream           = var.source_type == "dynamodb"
  create_source_queue = var.create && !local.is_stream && var.event_source_arn == null
  create_failure      = var.create && var.create_failure_queue

  source_arn        = local.create_source_queue ? try(aws_sqs_queue.source[0].arn, null) : var.event_source_arn
  failure_queue_arn = local.create_failure ? try(aws_sqs_queue.failures[0].arn, null) : var.failure_queue_arn

  # A stream mapping sends what it gives up on to the failure queue itself, with the function's role.
  stream_sends_failures = local.is_stream && (local.create_failure || var.failure_queue_arn != null)

  # Streams of one table share the prefix arn:...:table/<name>/stream/ (ListStreams is checked there).
  stream_prefix = local.is_stream && var.event_source_arn != null ? regex("^(arn:[^:]+:dynamodb:[^:]*:[^:]*:table/[^/]+/stream/)", var.event_source_arn)[0] : null

  policy_statements = merge(
    local.is_stream && var.event_source_arn != null ? {
      ReadStream = {
        effect     = "Allow"
        actions    = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
        resources  = [var.event_source_arn]
        conditions = []
      }
      ListTableStreams = {
        effect     = "Allow"
        actions    = ["dynamodb:ListStreams"]
        resources  = ["${local.stream_prefix}*"]
        conditions = []
      }
    } : {},
    !local.is_stream ? {
      ConsumeQueue = {
        effect     = "Allow"
        actions    = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
        resources  = [local.source_arn]
        conditions = []
      }
    } : {},
    local.stream_sends_failures ? {
      SendFailedRecords = {
        effect     = "Allow"
        actions    = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
        resources  = [local.failure_queue_arn]
        conditions = []
      }
    } : {},
    var.queue_kms_key_arn != null ? {
      UseQueueKey = {
        effect     = "Allow"
        actions    = ["kms:Decrypt", "kms:GenerateDataKey"]
        resources  = [var.queue_kms_key_arn]
        conditions = []
      }
    } : {},
  )

  policy_json = jsonencode({
    Version = "2012-10-17"
    Statement = [
      for sid, statement in local.policy_statements : {
        Sid      = sid
        Effect   = statement.effect
        Action   = statement.actions
        Resource = statement.resources
      }
    ]
  })
}

resource "aws_sqs_queue" "failures" {
  count = local.create_failure ? 1 : 0

  name                              = "${var.name}-failures"
  message_retention_seconds         = var.failure_queue_message_retention_seconds
  kms_master_key_id                 = var.queue_kms_key_arn
  kms_data_key_reuse_period_seconds = var.queue_kms_key_arn != null ? 300 : null
  sqs_managed_sse_enabled           = var.queue_kms_key_arn == null ? true : null

  tags = var.tags
}

resource "aws_sqs_queue" "source" {
  count = local.create_source_queue ? 1 : 0

  name                              = "${var.name}-source"
  visibility_timeout_seconds        = var.source_queue_visibility_timeout_seconds
  kms_master_key_id                 = var.queue_kms_key_arn
  kms_data_key_reuse_period_seconds = var.queue_kms_key_arn != null ? 300 : null
  sqs_managed_sse_enabled           = var.queue_kms_key_arn == null ? true : null
  redrive_policy = local.failure_queue_arn == null ? null : jsonencode({
    deadLetterTargetArn = local.failure_queue_arn
    maxReceiveCount     = var.source_queue_max_receive_count
  })

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  count = var.create && var.function_role_name != null ? 1 : 0

  name   = "broadcaster-event-source"
  role   = var.function_role_name
  policy = local.policy_json
}

resource "aws_lambda_event_source_mapping" "this" {
  count = var.create ? 1 : 0

  event_source_arn                   = local.source_arn
  function_name                      = var.function_name
  enabled                            = var.enabled
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.maximum_batching_window_in_seconds
  # The broadcaster returns batchItemFailures, so only the records that failed are retried.
  function_response_types        = ["ReportBatchItemFailures"]
  starting_position              = local.is_stream ? var.starting_position : null
  bisect_batch_on_function_error = local.is_stream ? var.bisect_batch_on_function_error : null
  maximum_retry_attempts         = local.is_stream ? var.maximum_retry_attempts : null
  maximum_record_age_in_seconds  = local.is_stream ? var.maximum_record_age_in_seconds : null
  parallelization_factor         = local.is_stream ? var.parallelization_factor : null

  dynamic "destination_config" {
    for_each = local.stream_sends_failures ? [local.failure_queue_arn] : []

    content {
      on_failure {
        destination_arn = destination_config.value
      }
    }
  }

  dynamic "scaling_config" {
    for_each = !local.is_stream && var.maximum_concurrency != null ? [var.maximum_concurrency] : []

    content {
      maximum_concurrency = scaling_config.value
    }
  }

  dynamic "filter_criteria" {
    for_each = length(var.filter_patterns) > 0 ? [var.filter_patterns] : []

    content {
      dynamic "filter" {
        for_each = filter_criteria.value

        content {
          pattern = filter.value
        }
      }
    }
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = !local.is_stream || var.event_source_arn != null
      error_message = "source_type = \"dynamodb\" needs event_source_arn: the ARN of the table's stream (enable the stream on the application table)."
    }

    precondition {
      condition     = local.is_stream || var.batch_size <= 10 || var.maximum_batching_window_in_seconds >= 1
      error_message = "An SQS mapping with batch_size above 10 needs maximum_batching_window_in_seconds of at least 1."
    }
  }

  # The role must be able to read the source before the mapping starts polling.
  depends_on = [aws_iam_role_policy.this]
}
