locals {
  log_group_name = "/aws/lambda/${var.function_name}"
  log_group_arn  = try(aws_cloudwatch_log_group.this[0].arn, "")

  failure_destination_service = var.failure_destination_arn == null ? null : split(":", var.failure_destination_arn)[2]

  module_statements = concat(
    [{
      Sid      = "WriteOwnLogs"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = ["${local.log_group_arn}:*"]
    }],
    # X-Ray has no resource-level permissions for these two actions: AWS requires "*".
    var.tracing_mode == "Active" ? [{
      Sid      = "WriteTraces"
      Effect   = "Allow"
      Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      Resource = ["*"]
    }] : [],
    var.failure_destination_arn == null ? [] : [{
      Sid      = "SendFailedInvocations"
      Effect   = "Allow"
      Action   = [local.failure_destination_service == "sqs" ? "sqs:SendMessage" : "sns:Publish"]
      Resource = [var.failure_destination_arn]
    }],
  )

  caller_statements = [
    for sid, statement in var.policy_statements : merge(
      {
        Sid      = sid
        Effect   = statement.effect
        Action   = statement.actions
        Resource = statement.resources
      },
      length(statement.conditions) == 0 ? {} : {
        Condition = {
          for test in distinct([for condition in statement.conditions : condition.test]) : test => {
            for condition in statement.conditions : condition.variable => condition.values if condition.test == test
          }
        }
      },
    )
  ]

  policy_json = jsonencode({
    Version   = "2012-10-17"
    Statement = concat(local.module_statements, local.caller_statements)
  })

  assume_role_policy_json = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "LambdaAssumeRole"
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}

resource "aws_cloudwatch_log_group" "this" {
  count = var.create ? 1 : 0

  #checkov:skip=CKV_AWS_338:Retention is set per environment (log_retention_in_days: 7/30/90 days in dev/staging/prod); per-invocation logs lose their value within weeks and cost grows with volume.
  #checkov:skip=CKV_AWS_158:Log groups are encrypted by CloudWatch Logs by default; log_kms_key_arn adds a customer managed key where policy requires one.

  name              = local.log_group_name
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.log_kms_key_arn

  tags = var.tags
}

resource "aws_iam_role" "this" {
  count = var.create ? 1 : 0

  name                 = substr("${var.function_name}-role", 0, 64)
  description          = "Execution role of the ${var.function_name} Lambda function"
  assume_role_policy   = local.assume_role_policy_json
  permissions_boundary = var.role_permissions_boundary

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  count = var.create ? 1 : 0

  name   = "least-privilege"
  role   = aws_iam_role.this[0].id
  policy = local.policy_json
}

resource "aws_lambda_function" "this" {
  count = var.create ? 1 : 0

  #checkov:skip=CKV_AWS_116:Invoked synchronously by API Gateway or by an event source mapping; both handle failures themselves (the mapping has its own on-failure queue). Asynchronous failures go to failure_destination_arn.
  #checkov:skip=CKV_AWS_117:The functions only call public AWS APIs (DynamoDB, the API Gateway management API); a VPC would add NAT cost and cold-start latency for no isolation gain.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile the caller owns; the zips are reproducible builds whose hash Terraform tracks.
  #checkov:skip=CKV_AWS_173:Environment variables hold configuration only (no secrets); kms_key_arn is available for callers that want a customer managed key.
  #checkov:skip=CKV_AWS_115:Reserved concurrency is a per-environment decision (reserved_concurrent_executions); reserving by default would starve the rest of the account.
  function_name                  = var.function_name
  description                    = var.description
  role                           = aws_iam_role.this[0].arn
  filename                       = var.package_path
  s3_bucket                      = var.package_path == null ? var.s3_bucket : null
  s3_key                         = var.package_path == null ? var.s3_key : null
  s3_object_version              = var.package_path == null ? var.s3_object_version : null
  source_code_hash               = var.package_path != null ? filebase64sha256(var.package_path) : var.source_code_hash
  handler                        = var.handler
  runtime                        = var.runtime
  architectures                  = [var.architecture]
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrent_executions
  kms_key_arn                    = var.kms_key_arn

  dynamic "environment" {
    for_each = length(var.environment_variables) > 0 ? [var.environment_variables] : []

    content {
      variables = environment.value
    }
  }

  dynamic "logging_config" {
    for_each = var.log_format == null ? [] : [var.log_format]

    content {
      log_format = logging_config.value
      log_group  = aws_cloudwatch_log_group.this[0].name
    }
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = (var.package_path != null) != (var.s3_bucket != null && var.s3_key != null)
      error_message = "${var.function_name}: set either package_path (a local zip) or s3_bucket and s3_key (an uploaded zip), not both and not neither."
    }
  }

  # The log group and the permissions exist before the first invocation can happen.
  depends_on = [
    aws_cloudwatch_log_group.this,
    aws_iam_role_policy.this,
  ]
}

resource "aws_lambda_function_event_invoke_config" "this" {
  count = var.create && var.failure_destination_arn != null ? 1 : 0

  function_name          = aws_lambda_function.this[0].function_name
  maximum_retry_attempts = var.maximum_retry_attempts

  destination_config {
    on_failure {
      destination = var.failure_destination_arn
    }
  }
}
