mock_provider "aws" {
  mock_resource "aws_dynamodb_table" {
    defaults = {
      arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/wskit-prod-connections"
    }
  }

  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      id            = "a1b2c3d4e5"
      execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
    }
  }

  mock_resource "aws_lambda_function" {
    defaults = {
      arn        = "arn:aws:lambda:eu-west-1:123456789012:function:wskit-prod-fn"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:wskit-prod-fn/invocations"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/wskit-prod-role"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:wskit-prod"
    }
  }

  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:eu-west-1:123456789012:wskit-prod-alarms"
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

  mock_data "aws_iam_roles" {
    defaults = {
      names = ["wskit-apigateway-logs-eu-west-1"]
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
}

variables {
  lambda_package_dir = "../../modules/websocket-service/tests/fixtures"
  jwks_uri           = "https://idp.example.com/.well-known/jwks.json"
  jwt_issuer         = "https://idp.example.com/"
  jwt_audience       = ["wskit-prod"]
}

run "prod_settings" {
  command = apply

  assert {
    condition     = output.wss_url == "wss://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/live"
    error_message = "The environment publishes its wss:// URL."
  }

  assert {
    condition     = module.websocket.log_retention_in_days == 90
    error_message = "prod keeps logs 90 days."
  }

  assert {
    condition     = module.websocket.table_deletion_protection_enabled == true
    error_message = "prod: table deletion protection is on."
  }

  assert {
    condition     = length(module.websocket.alarm_names) > 0 && output.alarm_topic_arn != null
    error_message = "prod: alarms are on and notify a topic."
  }

  assert {
    condition     = toset(keys(output.function_names)) == toset(["connect", "disconnect", "message", "authorizer", "http"])
    error_message = "The broadcaster is off unless enabled; the HTTP API's function is on."
  }

  assert {
    condition     = output.http_api_url == "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/live" && length(output.http_api_iam_invoke_arns) == 2
    error_message = "The environment publishes the HTTP API's base URL and the ARNs backends need for its /iam routes."
  }

  assert {
    condition     = toset(values(module.websocket.function_tracing_modes)) == toset(["Active"])
    error_message = "prod: every function's tracing is Active, from the one tracing_mode variable."
  }

  assert {
    condition = (
      module.websocket.settings.frame_rate_limit == "120" && module.websocket.settings.publish_rate_limit == "100" &&
      module.websocket.settings.rate_limit_window_seconds == "10" && module.websocket.settings.history_retention_seconds == "600" &&
      module.websocket.settings.history_max_messages == "1000"
    )
    error_message = "prod: its rate limits and history retention reach the settings."
  }

  assert {
    condition     = module.websocket.http_api_cors_allow_origins == toset([])
    error_message = "prod: the HTTP API's CORS origins are the environment's."
  }
}

run "settings_an_operator_tunes" {
  command = plan

  variables {
    tracing_mode                = "PassThrough"
    rate_limits                 = { frames_per_connection = 30, publishes_per_user = 5, window_seconds = 60 }
    history                     = { retention_seconds = 0, max_messages = 1 }
    http_api_cors_allow_origins = ["https://ops.example.com"]
  }

  assert {
    condition = (
      toset(values(module.websocket.function_tracing_modes)) == toset(["PassThrough"]) &&
      module.websocket.settings.frame_rate_limit == "30" && module.websocket.settings.publish_rate_limit == "5" && module.websocket.settings.rate_limit_window_seconds == "60" &&
      module.websocket.settings.history_retention_seconds == "0" && module.websocket.settings.history_max_messages == "1" &&
      module.websocket.http_api_cors_allow_origins == toset(["https://ops.example.com"])
    )
    error_message = "tracing_mode, rate_limits, history and http_api_cors_allow_origins reach the module."
  }
}

run "missing_bootstrap_fails_the_plan_with_what_to_apply" {
  command = plan

  override_data {
    target = data.aws_iam_roles.api_gateway_logging
    values = {
      names = []
    }
  }

  expect_failures = [data.aws_iam_roles.api_gateway_logging]
}

run "functions_from_uploaded_artifacts" {
  command = plan

  variables {
    lambda_artifacts = {
      bucket     = "wskit-artifacts-123456789012-eu-west-1"
      key_prefix = "wskit/0.2.0/"
      versions   = { connect = "v1", disconnect = "v2", message = "v3", authorizer = "v4", http = "v5" }
    }
  }

  assert {
    condition     = module.websocket.function_code["message"].s3_key == "wskit/0.2.0/message.zip" && module.websocket.function_code["message"].s3_object_version == "v3" && module.websocket.function_code["message"].package_path == null
    error_message = "With lambda_artifacts every function deploys from its uploaded object version."
  }
}

run "message_router_is_capped_and_connect_is_reserved" {
  command = plan

  assert {
    condition     = module.websocket.function_reserved_concurrency == { message = 400, connect = 100, authorizer = 100, disconnect = -1, http = -1 }
    error_message = "The message router has a cap and $connect and the authorizer a guaranteed share."
  }
}
