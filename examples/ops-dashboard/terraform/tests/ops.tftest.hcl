# The root's wiring, with a mock provider: the metrics stream feeds the coalescer (a second of
# samples a batch), the coalescer may send to the broadcaster's queue and nothing else.
mock_provider "aws" {
  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      id            = "a1b2c3d4e5"
      execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
    }
  }

  mock_resource "aws_lambda_function" {
    defaults = {
      arn        = "arn:aws:lambda:eu-west-1:123456789012:function:opsdash-fn"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:opsdash-fn/invocations"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/opsdash-role"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:opsdash"
    }
  }

  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:123456789012:opsdash-failures"
    }
  }

  mock_resource "aws_dynamodb_table" {
    defaults = {
      arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/opsdash-connections"
    }
  }

  mock_data "aws_region" {
    defaults = {
      id   = "eu-west-1"
      name = "eu-west-1"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }

  mock_data "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:123456789012:opsdash-broadcast-source"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
}

override_resource {
  target = aws_dynamodb_table.metrics
  values = {
    arn        = "arn:aws:dynamodb:eu-west-1:123456789012:table/opsdash-metrics"
    stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/opsdash-metrics/stream/2026-01-01T00:00:00.000"
  }
}

variables {
  lambda_package_dir     = "../../../terraform/modules/websocket-service/tests/fixtures"
  coalescer_package_path = "../../../terraform/modules/lambda-function/tests/fixtures/handler.zip"
  jwks_uri               = "https://idp.example.com/.well-known/jwks.json"
  jwt_issuer             = "https://idp.example.com/"
  jwt_audience           = ["opsdash"]
}

run "the_stream_feeds_the_coalescer_which_feeds_the_broadcaster_queue" {
  command = apply

  assert {
    condition     = module.metrics_stream.event_source_arn == aws_dynamodb_table.metrics.stream_arn
    error_message = "The coalescer's mapping reads the metrics stream."
  }

  assert {
    condition     = module.metrics_stream.policy_statements["ReadStream"].resources == [aws_dynamodb_table.metrics.stream_arn]
    error_message = "The coalescer may read that stream only."
  }

  assert {
    condition     = module.coalescer.environment_variables["OPS_PUBLISH_QUEUE_URL"] == module.websocket.broadcaster_source_queue_url
    error_message = "The coalescer sends to the broadcaster's source queue."
  }

  assert {
    condition = anytrue([
      for statement in jsondecode(module.coalescer.policy_json).Statement :
      statement.Action == "sqs:SendMessage" || statement.Action == ["sqs:SendMessage"] ? statement.Resource == "arn:aws:sqs:eu-west-1:123456789012:opsdash-broadcast-source" || statement.Resource == ["arn:aws:sqs:eu-west-1:123456789012:opsdash-broadcast-source"] : false
    ])
    error_message = "The coalescer may send to that queue, and only send."
  }

  assert {
    condition     = module.websocket.settings["public_topic_prefixes"] == "metrics:"
    error_message = "metrics:<service> topics are for anyone signed in."
  }

  assert {
    condition     = output.failure_queue_urls["metrics_stream"] != null && output.failure_queue_urls["broadcaster"] != null
    error_message = "Both hops keep what they could not deliver."
  }
}
