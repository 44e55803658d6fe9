mock_provider "aws" {
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/wskit-test-connect"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/wskit-test-connect-role"
    }
  }
}

variables {
  function_name = "wskit-test-connect"
  package_path  = "tests/fixtures/handler.zip"
  environment_variables = {
    WSKIT_TABLE_NAME = "wskit-test"
    WSKIT_LOG_LEVEL  = "INFO"
  }
  policy_statements = {
    WriteConnections = {
      actions   = ["dynamodb:PutItem", "dynamodb:Query"]
      resources = ["arn:aws:dynamodb:eu-west-1:123456789012:table/wskit-test"]
    }
  }
}

run "defaults_follow_the_contract" {
  command = plan

  assert {
    condition     = aws_lambda_function.this[0].runtime == "nodejs22.x" && aws_lambda_function.this[0].handler == "index.handler"
    error_message = "Functions run index.handler on nodejs22.x by default."
  }

  assert {
    condition     = aws_lambda_function.this[0].architectures == tolist(["arm64"])
    error_message = "The default architecture is arm64."
  }

  assert {
    condition     = aws_lambda_function.this[0].source_code_hash == filebase64sha256("tests/fixtures/handler.zip")
    error_message = "The zip's SHA-256 must be tracked so a rebuilt zip redeploys."
  }

  assert {
    condition     = aws_lambda_function.this[0].environment[0].variables == tomap({ WSKIT_TABLE_NAME = "wskit-test", WSKIT_LOG_LEVEL = "INFO" })
    error_message = "The environment is exactly what the caller passes."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this[0].name == "/aws/lambda/wskit-test-connect" && aws_cloudwatch_log_group.this[0].retention_in_days == 30
    error_message = "The function's log group is created with a retention."
  }

  assert {
    condition     = aws_lambda_function.this[0].tracing_config[0].mode == "Active"
    error_message = "Tracing is active by default."
  }
}

run "policy_is_least_privilege" {
  command = apply

  assert {
    condition = alltrue([
      for statement in jsondecode(aws_iam_role_policy.this[0].policy).Statement :
      alltrue([for action in statement.Action : action != "*" && !endswith(action, ":*")])
    ])
    error_message = "No statement may grant \"*\" or \"service:*\" actions."
  }

  assert {
    condition = alltrue([
      for statement in jsondecode(aws_iam_role_policy.this[0].policy).Statement :
      alltrue([for resource in statement.Resource : resource != "*"]) if statement.Sid != "WriteTraces"
    ])
    error_message = "Only the X-Ray statement (which AWS cannot scope) may use a \"*\" resource."
  }

  assert {
    condition = one([
      for statement in jsondecode(aws_iam_role_policy.this[0].policy).Statement : statement.Resource if statement.Sid == "WriteOwnLogs"
    ]) == ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/wskit-test-connect:*"]
    error_message = "Logging is scoped to the function's own log group."
  }

  assert {
    condition = !anytrue([
      for statement in jsondecode(aws_iam_role_policy.this[0].policy).Statement : contains(statement.Action, "logs:CreateLogGroup")
    ])
    error_message = "The module creates the log group, so the role must not be able to create log groups."
  }

  assert {
    condition     = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement[0].Principal.Service == "lambda.amazonaws.com"
    error_message = "Only Lambda may assume the role."
  }
}

run "wildcard_actions_are_rejected" {
  command = plan

  variables {
    policy_statements = {
      Everything = {
        actions   = ["dynamodb:*"]
        resources = ["arn:aws:dynamodb:eu-west-1:123456789012:table/wskit-test"]
      }
    }
  }

  expect_failures = [var.policy_statements]
}

run "failure_destination_gets_its_permission" {
  command = apply

  variables {
    failure_destination_arn = "arn:aws:sqs:eu-west-1:123456789012:wskit-test-failures"
    tracing_mode            = "PassThrough"
  }

  assert {
    condition     = aws_lambda_function_event_invoke_config.this[0].destination_config[0].on_failure[0].destination == "arn:aws:sqs:eu-west-1:123456789012:wskit-test-failures"
    error_message = "Asynchronous failures go to the failure destination."
  }

  assert {
    condition = one([
      for statement in jsondecode(aws_iam_role_policy.this[0].policy).Statement : statement if statement.Sid == "SendFailedInvocations"
    ]).Action == ["sqs:SendMessage"]
    error_message = "The role may send to the failure queue, nothing more."
  }

  assert {
    condition     = !strcontains(aws_iam_role_policy.this[0].policy, "xray:")
    error_message = "Without active tracing the role gets no X-Ray permissions."
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition     = length(aws_lambda_function.this) == 0 && length(aws_iam_role.this) == 0 && length(aws_cloudwatch_log_group.this) == 0
    error_message = "create = false must create nothing."
  }

  assert {
    condition     = output.function_name == null
    error_message = "Outputs are null when nothing is created."
  }
}

run "code_from_an_s3_object_version" {
  command = plan

  variables {
    package_path      = null
    s3_bucket         = "wskit-artifacts-123456789012-eu-west-1"
    s3_key            = "wskit/1.4.0/connect.zip"
    s3_object_version = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
  }

  assert {
    condition     = aws_lambda_function.this[0].s3_bucket == "wskit-artifacts-123456789012-eu-west-1" && aws_lambda_function.this[0].s3_key == "wskit/1.4.0/connect.zip" && aws_lambda_function.this[0].s3_object_version == "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
    error_message = "An uploaded zip deploys from its bucket, key and version."
  }

  assert {
    condition     = aws_lambda_function.this[0].filename == null
    error_message = "No local file is read for an S3 package."
  }
}

run "code_needs_exactly_one_source" {
  command = plan

  variables {
    s3_bucket = "wskit-artifacts"
    s3_key    = "connect.zip"
  }

  expect_failures = [aws_lambda_function.this]
}

run "code_needs_a_source" {
  command = plan

  variables {
    package_path = null
  }

  expect_failures = [aws_lambda_function.this]
}
