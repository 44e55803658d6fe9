mock_provider "aws" {
  mock_resource "aws_dynamodb_table" {
    defaults = {
      arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/wskit-dev-connections"
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
      arn        = "arn:aws:lambda:eu-west-1:123456789012:function:wskit-dev-fn"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:wskit-dev-fn/invocations"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/wskit-dev-role"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:wskit-dev"
    }
  }

  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:eu-west-1:123456789012:wskit-dev-alarms"
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
  jwt_audience       = ["wskit-dev"]
}

run "dev_settings" {
  command = apply

  assert {
    condition     = output.wss_url == "wss://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/dev"
    error_message = "The environment publishes its wss:// URL."
  }

  assert {
    condition     = module.websocket.log_retention_in_days == 7
    error_message = "dev keeps logs 7 days."
  }

  assert {
    condition     = module.websocket.table_deletion_protection_enabled == false
    error_message = "dev: table deletion protection is off."
  }

  assert {
    condition     = length(module.websocket.alarm_names) == 0
    error_message = "dev: alarms are off."
  }

  assert {
    condition     = toset(keys(output.function_names)) == toset(["connect", "disconnect", "message", "authorizer", "http"])
    error_message = "The broadcaster is off unless enabled; the HTTP API's function is on."
  }

  assert {
    condition     = output.http_api_url == "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/dev" && length(output.http_api_iam_invoke_arns) == 2
    error_message = "The environment publishes the HTTP API's base URL and the ARNs backends need for its /iam routes."
  }

  assert {
    condition     = toset(values(module.websocket.function_tracing_modes)) == toset(["PassThrough"])
    error_message = "dev: every function's tracing is PassThrough, from the one tracing_mode variable."
  }

  assert {
    condition = (
      module.websocket.settings.frame_rate_limit == "240" && module.websocket.settings.publish_rate_limit == "200" &&
      module.websocket.settings.rate_limit_window_seconds == "10" && module.websocket.settings.history_retention_seconds == "3600" &&
      module.websocket.settings.history_max_messages == "1000"
    )
    error_message = "dev: its rate limits and history retention reach the settings."
  }

  assert {
    condition     = module.websocket.http_api_cors_allow_origins == toset(["http://localhost:5173", "http://localhost:3000"])
    error_message = "dev: the HTTP API's CORS origins are the environment's."
  }
}

run "settings_an_operator_tunes" {
  command = plan

  variables {
    tracing_mode                = "Active"
    rate_limits                 = { frames_per_connection = 30, publishes_per_user = 5, window_seconds = 60 }
    history                     = { retention_seconds = 0, max_messages = 1 }
    http_api_cors_allow_origins = ["https://ops.example.com"]
    management_quota            = { rate = 30000, burst = 15000 }
    fanout                      = { inline_limit = 5000 }
  }

  assert {
    condition = (
      toset(values(module.websocket.function_tracing_modes)) == toset(["Active"]) &&
      module.websocket.settings.frame_rate_limit == "30" && module.websocket.settings.publish_rate_limit == "5" && module.websocket.settings.rate_limit_window_seconds == "60" &&
      module.websocket.settings.history_retention_seconds == "0" && module.websocket.settings.history_max_messages == "1" &&
      module.websocket.http_api_cors_allow_origins == toset(["https://ops.example.com"]) &&
      module.websocket.settings.tracing == "on" &&
      module.websocket.settings.management_quota == "30000" && module.websocket.settings.management_burst == "15000" &&
      module.websocket.settings.inline_fanout_limit == "5000"
    )
    error_message = "tracing_mode, rate_limits, history, http_api_cors_allow_origins, management_quota and fanout reach the module."
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
