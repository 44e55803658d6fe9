mock_provider "aws" {}

override_resource {
  target = aws_sqs_queue.failures
  values = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:wskit-test-broadcast-failures"
  }
}

override_resource {
  target = aws_sqs_queue.source
  values = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:wskit-test-broadcast-source"
  }
}

variables {
  name               = "wskit-test-broadcast"
  function_name      = "wskit-test-broadcaster"
  function_role_name = "wskit-test-broadcaster-role"
  source_type        = "dynamodb"
  event_source_arn   = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000"
}

run "stream_mapping_bounds_retries_and_reports_partial_failures" {
  command = apply

  assert {
    condition     = aws_lambda_event_source_mapping.this[0].function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "The mapping must accept partial batch responses."
  }

  assert {
    condition = (
      aws_lambda_event_source_mapping.this[0].bisect_batch_on_function_error == true &&
      aws_lambda_event_source_mapping.this[0].maximum_retry_attempts == 3 &&
      aws_lambda_event_source_mapping.this[0].maximum_record_age_in_seconds == 3600 &&
      aws_lambda_event_source_mapping.this[0].starting_position == "LATEST"
    )
    error_message = "Stream retries are bounded (bisect, 3 attempts, 1 hour) instead of retrying for 24 hours."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this[0].destination_config[0].on_failure[0].destination_arn == "arn:aws:sqs:eu-west-1:123456789012:wskit-test-broadcast-failures"
    error_message = "Records the mapping gives up on go to the failure queue."
  }

  assert {
    condition     = length(aws_sqs_queue.source) == 0 && length(aws_sqs_queue.failures) == 1
    error_message = "A stream source creates the failure queue only."
  }
}

run "stream_policy_is_scoped" {
  command = apply

  assert {
    condition = alltrue([
      for statement in jsondecode(aws_iam_role_policy.this[0].policy).Statement :
      alltrue([for action in statement.Action : action != "*" && !endswith(action, ":*")]) &&
      alltrue([for resource in statement.Resource : resource != "*"])
    ])
    error_message = "No \"*\" action or resource in the mapping's policy."
  }

  assert {
    condition = one([
      for statement in jsondecode(aws_iam_role_policy.this[0].policy).Statement : statement.Resource if statement.Sid == "ReadStream"
    ]) == ["arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000"]
    error_message = "Reading records is scoped to the one stream."
  }

  assert {
    condition = one([
      for statement in jsondecode(aws_iam_role_policy.this[0].policy).Statement : statement.Resource if statement.Sid == "ListTableStreams"
    ]) == ["arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/*"]
    error_message = "ListStreams is scoped to the table's streams."
  }

  assert {
    condition = one([
      for statement in jsondecode(aws_iam_role_policy.this[0].policy).Statement : statement.Resource if statement.Sid == "SendFailedRecords"
    ]) == ["arn:aws:sqs:eu-west-1:123456789012:wskit-test-broadcast-failures"]
    error_message = "The role may send only to the failure queue."
  }

  assert {
    condition     = aws_iam_role_policy.this[0].role == "wskit-test-broadcaster-role"
    error_message = "The statements are attached to the function's role."
  }
}

run "sqs_source_queue_with_redrive" {
  command = apply

  variables {
    source_type         = "sqs"
    event_source_arn    = null
    batch_size          = 10
    maximum_concurrency = 20
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this[0].event_source_arn == "arn:aws:sqs:eu-west-1:123456789012:wskit-test-broadcast-source"
    error_message = "Without an ARN the module creates the source queue and reads it."
  }

  assert {
    condition     = jsondecode(aws_sqs_queue.source[0].redrive_policy).deadLetterTargetArn == "arn:aws:sqs:eu-west-1:123456789012:wskit-test-broadcast-failures"
    error_message = "Messages that keep failing move from the source queue to the failure queue."
  }

  assert {
    condition     = length(aws_lambda_event_source_mapping.this[0].destination_config) == 0 && aws_lambda_event_source_mapping.this[0].starting_position == null
    error_message = "Stream-only settings stay unset for an SQS source."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this[0].scaling_config[0].maximum_concurrency == 20
    error_message = "maximum_concurrency limits the SQS mapping."
  }

  assert {
    condition = one([
      for statement in jsondecode(aws_iam_role_policy.this[0].policy).Statement : statement if statement.Sid == "ConsumeQueue"
    ]).Resource == ["arn:aws:sqs:eu-west-1:123456789012:wskit-test-broadcast-source"]
    error_message = "Consuming is scoped to the source queue."
  }

  assert {
    condition     = aws_sqs_queue.source[0].sqs_managed_sse_enabled == true && aws_sqs_queue.failures[0].sqs_managed_sse_enabled == true
    error_message = "The queues are encrypted at rest."
  }
}

run "filter_patterns_reach_the_mapping" {
  command = plan

  variables {
    filter_patterns = [jsonencode({ eventName = ["INSERT", "MODIFY"] })]
  }

  assert {
    condition     = [for filter in aws_lambda_event_source_mapping.this[0].filter_criteria[0].filter : filter.pattern] == ["{\"eventName\":[\"INSERT\",\"MODIFY\"]}"]
    error_message = "Filter patterns are passed to the mapping."
  }
}

run "stream_without_arn_is_rejected" {
  command = plan

  variables {
    event_source_arn = null
  }

  expect_failures = [aws_lambda_event_source_mapping.this]
}

run "large_sqs_batch_needs_a_window" {
  command = plan

  variables {
    source_type      = "sqs"
    event_source_arn = "arn:aws:sqs:eu-west-1:123456789012:app-events"
    batch_size       = 100
  }

  expect_failures = [aws_lambda_event_source_mapping.this]
}

run "policy_only_mode_attaches_nothing" {
  command = plan

  variables {
    function_role_name = null
  }

  assert {
    condition     = length(aws_iam_role_policy.this) == 0 && length(jsondecode(output.policy_json).Statement) == 3
    error_message = "Without a role name the module only returns the policy."
  }
}
