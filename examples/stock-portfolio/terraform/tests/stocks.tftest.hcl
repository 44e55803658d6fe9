# The root's wiring, with a mock provider: both tables stream into the one broadcaster, the
# second mapping's permissions land on the broadcaster's role, prices are public.
mock_provider "aws" {
  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      id            = "a1b2c3d4e5"
      execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
    }
  }

  mock_resource "aws_lambda_function" {
    defaults = {
      arn        = "arn:aws:lambda:eu-west-1:123456789012:function:stockpicker-fn"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:stockpicker-fn/invocations"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/stockpicker-role"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:stockpicker"
    }
  }

  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:123456789012:stockpicker-failures"
    }
  }

  mock_resource "aws_dynamodb_table" {
    defaults = {
      arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/stockpicker-connections"
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

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
}

override_resource {
  target = aws_dynamodb_table.prices
  values = {
    arn        = "arn:aws:dynamodb:eu-west-1:123456789012:table/stockpicker-prices"
    stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/stockpicker-prices/stream/2026-01-01T00:00:00.000"
  }
}

override_resource {
  target = aws_dynamodb_table.portfolios
  values = {
    arn        = "arn:aws:dynamodb:eu-west-1:123456789012:table/stockpicker-portfolios"
    stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/stockpicker-portfolios/stream/2026-01-01T00:00:00.000"
  }
}

variables {
  lambda_package_dir = "../../../terraform/modules/websocket-service/tests/fixtures"
  jwks_uri           = "https://idp.example.com/.well-known/jwks.json"
  jwt_issuer         = "https://idp.example.com/"
  jwt_audience       = ["stockpicker"]
}

run "both_streams_feed_the_one_broadcaster" {
  command = apply

  assert {
    condition     = aws_dynamodb_table.prices.stream_enabled && aws_dynamodb_table.portfolios.stream_enabled && aws_dynamodb_table.prices.stream_view_type == "NEW_IMAGE" && aws_dynamodb_table.portfolios.stream_view_type == "NEW_IMAGE"
    error_message = "Both tables stream their new images (the broadcaster pushes the item)."
  }

  assert {
    condition     = module.portfolio_stream.event_source_arn == aws_dynamodb_table.portfolios.stream_arn
    error_message = "The second mapping reads the portfolios stream."
  }

  assert {
    condition     = output.broadcaster_function_name == "stockpicker-broadcaster"
    error_message = "The websocket-service module creates the broadcaster both mappings invoke."
  }

  assert {
    condition     = module.portfolio_stream.policy_statements["ReadStream"].resources == [aws_dynamodb_table.portfolios.stream_arn]
    error_message = "The portfolios mapping needs read access to that stream only."
  }

  assert {
    condition     = module.portfolio_stream.policy_statements["ListTableStreams"].resources == ["arn:aws:dynamodb:eu-west-1:123456789012:table/stockpicker-portfolios/stream/*"]
    error_message = "ListStreams is scoped to the portfolios table's streams."
  }

  assert {
    condition     = module.websocket.settings["public_topic_prefixes"] == "stock:"
    error_message = "Prices (stock:<SYMBOL>) are public; nothing else is."
  }

  assert {
    condition     = output.failure_queue_urls["portfolios"] != null && output.failure_queue_urls["prices"] != null
    error_message = "Each stream has a failure queue for what could not be delivered."
  }
}

run "a_name_that_cannot_prefix_aws_names_is_refused" {
  command = plan

  variables {
    name = "Stock_Picker"
  }

  expect_failures = [var.name]
}
