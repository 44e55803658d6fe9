data "aws_region" "current" {}

locals {
  create_alarms = var.create && var.create_alarms
  topic_arn     = var.create_sns_topic ? try(aws_sns_topic.this[0].arn, null) : var.sns_topic_arn
  alarm_actions = local.topic_arn == null ? [] : [local.topic_arn]

  metric_namespace = coalesce(var.metric_namespace, "wskit/${var.name}")
  fan_out_services = var.fan_out == null ? [] : var.fan_out.services
  region           = data.aws_region.current.id

  api_dimensions = var.api == null ? {} : { ApiId = var.api.id, Stage = var.api.stage }

  api_alarms = local.create_alarms && var.api != null ? {
    execution-errors = {
      metric_name = "ExecutionError"
      statistic   = "Sum"
      threshold   = var.api.execution_error_threshold
      description = "API Gateway failed to run requests (WebSocket APIs report server-side failures as ExecutionError; they have no 5XXError metric)."
    }
    integration-errors = {
      metric_name = "IntegrationError"
      statistic   = "Sum"
      threshold   = var.api.integration_error_threshold
      description = "The Lambda integrations returned errors to API Gateway."
    }
  } : {}

  function_alarms = local.create_alarms ? merge([
    for key, function_name in var.function_names : {
      "${key}-errors" = {
        function_name = function_name
        metric_name   = "Errors"
        threshold     = var.function_error_threshold
        description   = "The ${key} function threw errors."
      }
      "${key}-throttles" = {
        function_name = function_name
        metric_name   = "Throttles"
        threshold     = var.function_throttle_threshold
        description   = "The ${key} function was throttled (concurrency exhausted)."
      }
    }
  ]...) : {}

  # Widgets are JSON strings: optional groups then share one type, list(string).
  lambda_widgets = [
    for metric in ["Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions"] : jsonencode({
      type   = "metric"
      width  = 8
      height = 6
      properties = {
        title   = "Lambda ${metric}"
        region  = local.region
        view    = "timeSeries"
        stat    = metric == "Duration" ? "p99" : (metric == "ConcurrentExecutions" ? "Maximum" : "Sum")
        period  = 60
        metrics = [for key, function_name in var.function_names : ["AWS/Lambda", metric, "FunctionName", function_name, { label = key }]]
      }
    })
  ]

  api_widgets = var.api == null ? [] : [
    jsonencode({
      type   = "metric"
      width  = 8
      height = 6
      properties = {
        title  = "Connections and messages"
        region = local.region
        view   = "timeSeries"
        stat   = "Sum"
        period = 60
        metrics = [
          ["AWS/ApiGateway", "ConnectCount", "ApiId", var.api.id, "Stage", var.api.stage],
          ["AWS/ApiGateway", "MessageCount", "ApiId", var.api.id, "Stage", var.api.stage],
        ]
      }
    }),
    jsonencode({
      type   = "metric"
      width  = 8
      height = 6
      properties = {
        title  = "API errors"
        region = local.region
        view   = "timeSeries"
        stat   = "Sum"
        period = 60
        metrics = [
          ["AWS/ApiGateway", "ClientError", "ApiId", var.api.id, "Stage", var.api.stage],
          ["AWS/ApiGateway", "ExecutionError", "ApiId", var.api.id, "Stage", var.api.stage],
          ["AWS/ApiGateway", "IntegrationError", "ApiId", var.api.id, "Stage", var.api.stage],
        ]
      }
    }),
    jsonencode({
      type   = "metric"
      width  = 8
      height = 6
      properties = {
        title  = "Integration latency"
        region = local.region
        view   = "timeSeries"
        period = 60
        metrics = [
          ["AWS/ApiGateway", "IntegrationLatency", "ApiId", var.api.id, "Stage", var.api.stage, { stat = "p50" }],
          ["AWS/ApiGateway", "IntegrationLatency", "ApiId", var.api.id, "Stage", var.api.stage, { stat = "p99" }],
        ]
      }
    }),
  ]

  delivery_widgets = concat(
    var.authorizer_denials == null ? [] : [jsonencode({
      type   = "metric"
      width  = 8
      height = 6
      properties = {
        title   = "Authorizer denials"
        region  = local.region
        view    = "timeSeries"
        stat    = "Sum"
        period  = 60
        metrics = [[local.metric_namespace, "AuthorizerDenials"]]
      }
    })],
    var.stream == null ? [] : [jsonencode({
      type   = "metric"
      width  = 8
      height = 6
      properties = {
        title   = "Broadcaster iterator age"
        region  = local.region
        view    = "timeSeries"
        stat    = "Maximum"
        period  = 60
        metrics = [["AWS/Lambda", "IteratorAge", "FunctionName", var.stream.function_name]]
      }
    })],
    length(local.fan_out_services) == 0 ? [] : [jsonencode({
      type   = "metric"
      width  = 8
      height = 6
      properties = {
        title  = "Fan-out deliveries"
        region = local.region
        view   = "timeSeries"
        stat   = "Sum"
        period = 60
        metrics = flatten([
          for service in local.fan_out_services : [
            for metric in ["Delivered", "Gone", "Failed", "Throttled"] : [local.metric_namespace, metric, "Service", service, { label = "${service} ${metric}" }]
          ]
        ])
      }
    })],
    length(var.failure_queues) == 0 ? [] : [jsonencode({
      type   = "metric"
      width  = 8
      height = 6
      properties = {
        title   = "Failure queue depth"
        region  = local.region
        view    = "timeSeries"
        stat    = "Maximum"
        period  = 60
        metrics = [for key, queue_name in var.failure_queues : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue_name, { label = key }]]
      }
    })],
  )
}

resource "aws_sns_topic" "this" {
  count = local.create_alarms && var.create_sns_topic ? 1 : 0

  #checkov:skip=CKV_AWS_26:CloudWatch alarms cannot publish to a topic encrypted with the AWS managed key; encryption needs a customer managed key (sns_kms_master_key_id) whose policy admits cloudwatch.amazonaws.com. Alarm notifications carry no secrets.
  name              = "${var.name}-alarms"
  kms_master_key_id = var.sns_kms_master_key_id

  tags = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each = local.create_alarms && var.create_sns_topic ? toset(var.alarm_email_addresses) : toset([])

  topic_arn = aws_sns_topic.this[0].arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_cloudwatch_metric_alarm" "api" {
  for_each = local.api_alarms

  alarm_name          = "${var.name}-api-${each.key}"
  alarm_description   = each.value.description
  namespace           = "AWS/ApiGateway"
  metric_name         = each.value.metric_name
  dimensions          = local.api_dimensions
  statistic           = each.value.statistic
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "api_latency" {
  count = local.create_alarms && var.api != null ? 1 : 0

  alarm_name          = "${var.name}-api-integration-latency-p99"
  alarm_description   = "p99 integration latency is high: the functions are slow to answer."
  namespace           = "AWS/ApiGateway"
  metric_name         = "IntegrationLatency"
  dimensions          = local.api_dimensions
  extended_statistic  = "p99"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.api.integration_latency_p99_ms
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "function" {
  for_each = local.function_alarms

  alarm_name          = "${var.name}-lambda-${each.key}"
  alarm_description   = each.value.description
  namespace           = "AWS/Lambda"
  metric_name         = each.value.metric_name
  dimensions          = { FunctionName = each.value.function_name }
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_log_metric_filter" "authorizer_denials" {
  count = var.create && var.authorizer_denials != null ? 1 : 0

  name           = "${var.name}-authorizer-denials"
  log_group_name = var.authorizer_denials.log_group_name
  pattern        = var.authorizer_denials.filter_pattern

  metric_transformation {
    name      = "AuthorizerDenials"
    namespace = local.metric_namespace
    value     = "1"
    unit      = "Count"
  }
}

resource "aws_cloudwatch_metric_alarm" "authorizer_denials" {
  count = local.create_alarms && var.authorizer_denials != null ? 1 : 0

  alarm_name          = "${var.name}-authorizer-denials-spike"
  alarm_description   = "Many connections were refused by the authorizer: expired or forged tokens, a misconfigured issuer or audience, or a JWKS outage."
  namespace           = local.metric_namespace
  metric_name         = aws_cloudwatch_log_metric_filter.authorizer_denials[0].metric_transformation[0].name
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.authorizer_denials.threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "iterator_age" {
  count = local.create_alarms && var.stream != null ? 1 : 0

  alarm_name          = "${var.name}-broadcaster-iterator-age"
  alarm_description   = "The broadcaster is falling behind its stream: pushes arrive late, and records near the age limit go to the failure queue."
  namespace           = "AWS/Lambda"
  metric_name         = "IteratorAge"
  dimensions          = { FunctionName = var.stream.function_name }
  statistic           = "Maximum"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.stream.threshold_ms
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "failure_queue" {
  for_each = local.create_alarms ? var.failure_queues : {}

  alarm_name          = "${var.name}-${each.key}-failure-queue-depth"
  alarm_description   = "Records that could not be delivered are waiting in ${each.value}: inspect them, fix the cause, then redrive."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = var.period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "failed_deliveries" {
  for_each = local.create_alarms ? toset(local.fan_out_services) : toset([])

  alarm_name          = "${var.name}-${each.key}-failed-deliveries"
  alarm_description   = "${each.key} could not deliver messages to live connections after retries: look for throttling (429), 403 (IAM or a wrong callback URL) or timeouts in its log."
  namespace           = local.metric_namespace
  metric_name         = "Failed"
  dimensions          = { Service = each.key }
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.fan_out.failed_delivery_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.create && var.create_dashboard ? 1 : 0

  dashboard_name = var.name
  dashboard_body = jsonencode({
    widgets = [for widget in concat(local.api_widgets, local.lambda_widgets, local.delivery_widgets) : jsondecode(widget)]
  })
}
