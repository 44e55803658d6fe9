data "aws_region" "current" {}

locals {
  create_alarms = var.create && var.create_alarms
  topic_arn     = var.create_sns_topic ? try(aws_sns_topic.this[0].arn, null) : var.sns_topic_arn
  alarm_actions = local.topic_arn == null ? [] : [local.topic_arn]

  metric_namespace = coalesce(var.metric_namespace, "wskit/${var.name}")
  fan_out_services = var.fan_out == null ? [] : var.fan_out.services
  region           = data.aws_region.current.id

  # The Service dimension each function's EMF metrics carry (wskit-<function>).
  services = { for key, function_name in var.function_names : key => "${var.service_dimension_prefix}${key}" }

  api_dimensions = var.api == null ? {} : { ApiId = var.api.id, Stage = var.api.stage }

  # IntegrationError is not alarmed: $connect answers 401 and 429 by design (a refused
  # token, the per-user cap), and API Gateway counts those as integration errors. The
  # functions' own faults are alarmed through Faults and Lambda Errors instead.
  api_alarms = local.create_alarms && var.api != null ? {
    execution-errors = {
      metric_name = "ExecutionError"
      statistic   = "Sum"
      threshold   = var.api.execution_error_threshold
      description = "API Gateway failed to run requests (WebSocket APIs report server-side failures as ExecutionError; they have no 5XXError metric). See docs/operations.md."
    }
  } : {}

  function_alarms = local.create_alarms ? merge([
    for key, function_name in var.function_names : merge(
      contains(var.error_alarm_excluded_functions, key) ? {} : {
        "${key}-errors" = {
          function_name = function_name
          metric_name   = "Errors"
          threshold     = var.function_error_threshold
          description   = "The ${key} function failed invocations (an uncaught error, a timeout or running out of memory). See docs/operations.md."
        }
      },
      {
        "${key}-throttles" = {
          function_name = function_name
          metric_name   = "Throttles"
          threshold     = var.function_throttle_threshold
          description   = "The ${key} function was throttled: its reserved concurrency, or the account's, is exhausted. See docs/operations.md."
        }
      },
    )
  ]...) : {}

  table_operations = var.table == null ? [] : var.table.operations

  metric_widget = {
    type   = "metric"
    height = 6
  }

  http_api_dimensions = var.http_api == null ? {} : { ApiId = var.http_api.id, Stage = var.http_api.stage }
  client_service      = var.client_health == null ? "" : var.client_health.service

  # Widgets are JSON strings: optional groups then share one type, list(string).
  api_widgets = var.api == null ? [] : [
    jsonencode(merge(local.metric_widget, {
      properties = {
        title  = "Connections and messages (per minute)"
        region = local.region
        view   = "timeSeries"
        stat   = "Sum"
        period = 60
        metrics = [
          ["AWS/ApiGateway", "ConnectCount", "ApiId", var.api.id, "Stage", var.api.stage],
          ["AWS/ApiGateway", "MessageCount", "ApiId", var.api.id, "Stage", var.api.stage],
        ]
      }
    })),
    jsonencode(merge(local.metric_widget, {
      properties = {
        title  = "API errors (IntegrationError includes $connect refusals by design)"
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
    })),
    jsonencode(merge(local.metric_widget, {
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
    })),
  ]

  # One row: the HTTP API beside the WebSocket API's row above it.
  http_api_widgets = var.http_api == null ? [] : [
    jsonencode(merge(local.metric_widget, {
      properties = {
        title  = "HTTP API requests and errors (per minute; 4xx are answers by design)"
        region = local.region
        view   = "timeSeries"
        stat   = "Sum"
        period = 60
        metrics = [
          for metric in ["Count", "4xx", "5xx"] : ["AWS/ApiGateway", metric, "ApiId", var.http_api.id, "Stage", var.http_api.stage]
        ]
      }
    })),
    jsonencode(merge(local.metric_widget, {
      properties = {
        title  = "HTTP API latency (ms)"
        region = local.region
        view   = "timeSeries"
        period = 60
        metrics = [
          ["AWS/ApiGateway", "Latency", "ApiId", var.http_api.id, "Stage", var.http_api.stage, { stat = "p50" }],
          ["AWS/ApiGateway", "Latency", "ApiId", var.http_api.id, "Stage", var.http_api.stage, { stat = "p99" }],
          ["AWS/ApiGateway", "IntegrationLatency", "ApiId", var.http_api.id, "Stage", var.http_api.stage, { stat = "p99" }],
        ]
      }
    })),
  ]

  # One row: what the clients experience, from their reports ([Service] dimension set: every
  # client version together). Each report covers the client's reporting interval (60 s by
  # default), so "per report" is about "per client-minute".
  client_widgets = var.client_health == null ? [] : [
    jsonencode(merge(local.metric_widget, {
      properties = {
        title  = "Clients: reconnects and failed connects per report"
        region = local.region
        view   = "timeSeries"
        period = 300
        metrics = [
          [{ id = "reconnects_per_report", expression = "FILL(reconnects, 0) / reports", label = "reconnects per report" }],
          [{ id = "failed_per_report", expression = "FILL(failed, 0) / reports", label = "failed connects per report" }],
          [local.metric_namespace, "ClientReports", "Service", local.client_service, { id = "reports", stat = "Sum", visible = false }],
          [local.metric_namespace, "ClientReconnects", "Service", local.client_service, { id = "reconnects", stat = "Sum", visible = false }],
          [local.metric_namespace, "ClientFailedConnects", "Service", local.client_service, { id = "failed", stat = "Sum", visible = false }],
        ]
      }
    })),
    jsonencode(merge(local.metric_widget, {
      properties = {
        title  = "Clients: round trip (ms) over the reporting clients"
        region = local.region
        view   = "timeSeries"
        period = 300
        metrics = [
          [local.metric_namespace, "ClientRttP95", "Service", local.client_service, { stat = "p50", label = "p95 rtt, median client" }],
          [local.metric_namespace, "ClientRttP95", "Service", local.client_service, { stat = "p90", label = "p95 rtt, 90th percentile client" }],
          [local.metric_namespace, "ClientRttP50", "Service", local.client_service, { stat = "p50", label = "p50 rtt, median client" }],
        ]
      }
    })),
    jsonencode(merge(local.metric_widget, {
      properties = {
        title  = "Clients: time in each connection quality (%)"
        region = local.region
        view   = "timeSeries"
        period = 300
        metrics = [
          [{ id = "good_share", expression = "100 * FILL(good, 0) / (FILL(good, 0) + FILL(degraded, 0) + FILL(poor, 0))", label = "good" }],
          [{ id = "degraded_share", expression = "100 * FILL(degraded, 0) / (FILL(good, 0) + FILL(degraded, 0) + FILL(poor, 0))", label = "degraded" }],
          [{ id = "poor_share", expression = "100 * FILL(poor, 0) / (FILL(good, 0) + FILL(degraded, 0) + FILL(poor, 0))", label = "poor" }],
          [local.metric_namespace, "ClientQualityGood", "Service", local.client_service, { id = "good", stat = "Sum", visible = false }],
          [local.metric_namespace, "ClientQualityDegraded", "Service", local.client_service, { id = "degraded", stat = "Sum", visible = false }],
          [local.metric_namespace, "ClientQualityPoor", "Service", local.client_service, { id = "poor", stat = "Sum", visible = false }],
        ]
      }
    })),
    jsonencode(merge(local.metric_widget, {
      properties = {
        title  = "Clients: reports, messages received and gaps (per 5 minutes)"
        region = local.region
        view   = "timeSeries"
        stat   = "Sum"
        period = 300
        metrics = [
          for metric in ["ClientReports", "ClientMessagesReceived", "ClientRecoveredGaps", "ClientUnrecoveredGaps"] : [local.metric_namespace, metric, "Service", local.client_service]
        ]
      }
    })),
  ]

  connection_widgets = var.connections == null ? [] : [
    jsonencode(merge(local.metric_widget, {
      properties = {
        title  = "Connections opened and closed (per minute)"
        region = local.region
        view   = "timeSeries"
        stat   = "Sum"
        period = 60
        metrics = concat(
          [[local.metric_namespace, "Connected", "Service", var.connections.connect_service, { label = "opened (connect: Connected)" }]],
          var.connections.disconnect_function == null ? [] : [["AWS/Lambda", "Invocations", "FunctionName", var.connections.disconnect_function, { label = "closed ($disconnect; best effort)" }]],
        )
      }
    })),
    # API Gateway closes every connection after 2 hours, so the connections open at the end
    # of a 2-hour bucket were all opened within it: its count is an upper bound of them
    # (exact when no connection closed early). No running sum: it would need a starting
    # count the metrics do not have.
    jsonencode(merge(local.metric_widget, {
      properties = {
        title  = "Open connections, upper bound (opened per 2 h bucket)"
        region = local.region
        view   = "timeSeries"
        stat   = "Sum"
        period = 7200
        metrics = [
          [local.metric_namespace, "Connected", "Service", var.connections.connect_service, { label = "opened in the 2 h before each point" }],
        ]
      }
    })),
  ]

  refusal_widgets = var.refusals == null ? [] : [
    jsonencode(merge(local.metric_widget, {
      properties = {
        title  = "Refusals by design (per minute): tokens refused, per-user cap, rate limit"
        region = local.region
        view   = "timeSeries"
        stat   = "Sum"
        period = 60
        metrics = concat(
          [for service in var.refusals.services : [local.metric_namespace, "Refused", "Service", service, { label = "${service} Refused" }]],
          var.authorizer == null ? [] : [[local.metric_namespace, "Allowed", "Service", var.authorizer.service, { label = "${var.authorizer.service} Allowed" }]],
          [for service in var.refusals.rate_limited_services : [local.metric_namespace, "RateLimited", "Service", service, { label = "${service} RateLimited" }]],
        )
      }
    })),
  ]

  fault_widgets = length(var.function_names) == 0 && var.authorizer == null ? [] : [
    jsonencode(merge(local.metric_widget, {
      properties = {
        title  = "Faults (any is a page)"
        region = local.region
        view   = "timeSeries"
        stat   = "Sum"
        period = 60
        metrics = concat(
          [for key, service in local.services : [local.metric_namespace, "Faults", "Service", service, { label = key }]],
          var.authorizer == null ? [] : [[local.metric_namespace, "JwksUnavailable", "Service", var.authorizer.service, { label = "JWKS unavailable" }]],
        )
      }
    })),
  ]

  lambda_widgets = [
    for metric in ["Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions"] : jsonencode(merge(local.metric_widget, {
      properties = {
        title   = metric == "Errors" ? "Lambda Errors (the authorizer's are its refusals)" : "Lambda ${metric}"
        region  = local.region
        view    = "timeSeries"
        stat    = metric == "Duration" ? "p99" : (metric == "ConcurrentExecutions" ? "Maximum" : "Sum")
        period  = 60
        metrics = [for key, function_name in var.function_names : ["AWS/Lambda", metric, "FunctionName", function_name, { label = key }]]
      }
    }))
  ]

  table_widgets = var.table == null ? [] : [
    jsonencode(merge(local.metric_widget, {
      properties = {
        title  = "DynamoDB consumed capacity (units per minute)"
        region = local.region
        view   = "timeSeries"
        stat   = "Sum"
        period = 60
        metrics = [
          ["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", var.table.name, { label = "read" }],
          ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", var.table.name, { label = "write" }],
        ]
      }
    })),
    jsonencode(merge(local.metric_widget, {
      properties = {
        title  = "DynamoDB throttles and system errors"
        region = local.region
        view   = "timeSeries"
        stat   = "Sum"
        period = 60
        metrics = concat(
          [for operation in local.table_operations : ["AWS/DynamoDB", "ThrottledRequests", "TableName", var.table.name, "Operation", operation, { label = "throttled ${operation}" }]],
          [for operation in local.table_operations : ["AWS/DynamoDB", "SystemErrors", "TableName", var.table.name, "Operation", operation, { label = "system errors ${operation}" }]],
        )
      }
    })),
    jsonencode(merge(local.metric_widget, {
      properties = {
        title  = "TTL deletions (rows a lost $disconnect left behind)"
        region = local.region
        view   = "timeSeries"
        stat   = "Sum"
        period = 300
        metrics = [
          ["AWS/DynamoDB", "TimeToLiveDeletedItemCount", "TableName", var.table.name],
        ]
      }
    })),
  ]

  delivery_widgets = concat(
    length(local.fan_out_services) == 0 ? [] : [
      jsonencode(merge(local.metric_widget, {
        properties = {
          title  = "Fan-out deliveries (per minute)"
          region = local.region
          view   = "timeSeries"
          stat   = "Sum"
          period = 60
          metrics = concat([
            for service in local.fan_out_services : [
              for metric in ["Recipients", "Delivered", "Gone", "Failed"] : [local.metric_namespace, metric, "Service", service, { label = "${service} ${metric}" }]
            ]
          ]...)
        }
      })),
      jsonencode(merge(local.metric_widget, {
        properties = {
          title  = "Management API: throttled (429) and retries"
          region = local.region
          view   = "timeSeries"
          stat   = "Sum"
          period = 60
          metrics = concat([
            for service in local.fan_out_services : [
              for metric in ["Throttled", "Retried", "Retries"] : [local.metric_namespace, metric, "Service", service, { label = "${service} ${metric}" }]
            ]
          ]...)
        }
      })),
      jsonencode(merge(local.metric_widget, {
        properties = {
          title  = "Fan-out duration (ms)"
          region = local.region
          view   = "timeSeries"
          period = 60
          metrics = concat([
            for service in local.fan_out_services : [
              for stat in ["p50", "p99"] : [local.metric_namespace, "FanOutDuration", "Service", service, { stat = stat, label = "${service} ${stat}" }]
            ]
          ]...)
        }
      })),
    ],
    var.stream == null ? [] : [jsonencode(merge(local.metric_widget, {
      properties = {
        title   = "Broadcaster iterator age"
        region  = local.region
        view    = "timeSeries"
        stat    = "Maximum"
        period  = 60
        metrics = [["AWS/Lambda", "IteratorAge", "FunctionName", var.stream.function_name]]
      }
    }))],
    length(var.failure_queues) == 0 ? [] : [jsonencode(merge(local.metric_widget, {
      properties = {
        title   = "Failure queue depth"
        region  = local.region
        view    = "timeSeries"
        stat    = "Maximum"
        period  = 60
        metrics = [for key, queue_name in var.failure_queues : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue_name, { label = key }]]
      }
    }))],
  )

  # Each group starts a row of its own: its widgets are laid out 3 to a row (4 when there are
  # exactly 4), each row's widths summing to the dashboard's 24 columns.
  widget_groups = [
    local.api_widgets,
    local.http_api_widgets,
    local.client_widgets,
    concat(local.connection_widgets, local.refusal_widgets, local.fault_widgets),
    local.lambda_widgets,
    local.table_widgets,
    local.delivery_widgets,
  ]
  widgets = flatten([
    for group in local.widget_groups : [
      for row in chunklist(group, length(group) == 4 ? 4 : 3) : [
        for widget in row : jsonencode(merge(jsondecode(widget), { width = floor(24 / length(row)) }))
      ]
    ]
  ])
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
  alarm_description   = "p99 integration latency is high: the functions are slow to answer. See docs/operations.md."
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

resource "aws_cloudwatch_metric_alarm" "http_api_server_errors" {
  count = local.create_alarms && var.http_api != null ? 1 : 0

  alarm_name          = "${var.name}-http-api-5xx"
  alarm_description   = "The HTTP API answered 5xx: the function failed (see its Faults), API Gateway could not invoke it or its authorizer (a missing permission, a throttled function), or the integration timed out. See docs/operations.md."
  namespace           = "AWS/ApiGateway"
  metric_name         = "5xx"
  dimensions          = local.http_api_dimensions
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.http_api.server_error_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "http_api_latency" {
  count = local.create_alarms && var.http_api != null ? 1 : 0

  alarm_name          = "${var.name}-http-api-latency-p99"
  alarm_description   = "p99 latency of the HTTP API is over ${var.http_api.latency_p99_ms} ms: publishes with large fan-outs, a slow table or a cold authorizer. See docs/operations.md."
  namespace           = "AWS/ApiGateway"
  metric_name         = "Latency"
  dimensions          = local.http_api_dimensions
  extended_statistic  = "p99"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.http_api.latency_p99_ms
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

# Client health: what the clients' reports say, summed over every client version (the
# [Service] dimension set). A ratio is only computed once min_reports reports arrived in
# the period; below that the expression is 0, so a few clients cannot page anyone.
resource "aws_cloudwatch_metric_alarm" "client_rate" {
  for_each = local.create_alarms && var.client_health != null ? {
    reconnects = {
      metric_name = "ClientReconnects"
      threshold   = var.client_health.reconnects_per_report
      description = "Clients reconnect more than ${var.client_health.reconnects_per_report} times per report (per client-minute at the reporter's default interval): connections drop (network path, idle timeouts, throttled or failing message routes, forced rotations)."
    }
    failed-connects = {
      metric_name = "ClientFailedConnects"
      threshold   = var.client_health.failed_connects_per_report
      description = "Clients fail more than ${var.client_health.failed_connects_per_report} connection attempts per report: the $connect path refuses or fails them (authorizer, per-user cap, throttling, the JWKS), or the network blocks WebSockets."
    }
  } : {}

  alarm_name          = "${var.name}-client-${each.key}-per-report"
  alarm_description   = "${each.value.description} Counted only with at least ${var.client_health.min_reports} reports in the period. See docs/operations.md."
  evaluation_periods  = var.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "rate"
    expression  = "IF(reports >= ${var.client_health.min_reports}, FILL(events, 0) / reports, 0)"
    label       = "${each.value.metric_name} per report"
    return_data = true
  }

  metric_query {
    id = "reports"

    metric {
      namespace   = local.metric_namespace
      metric_name = "ClientReports"
      dimensions  = { Service = var.client_health.service }
      stat        = "Sum"
      period      = var.period_seconds
    }
  }

  metric_query {
    id = "events"

    metric {
      namespace   = local.metric_namespace
      metric_name = each.value.metric_name
      dimensions  = { Service = var.client_health.service }
      stat        = "Sum"
      period      = var.period_seconds
    }
  }

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "client_rtt" {
  count = local.create_alarms && var.client_health != null ? 1 : 0

  alarm_name          = "${var.name}-client-rtt-p95"
  alarm_description   = "The ${var.client_health.rtt_statistic} of the reporting clients' p95 round trip is over ${var.client_health.rtt_p95_ms} ms (the client calls 500 ms degraded, 2 s poor): the message route is slow (Lambda duration, the table) or the clients' networks are. Counted only with at least ${var.client_health.min_reports} reports in the period. See docs/operations.md."
  evaluation_periods  = var.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.client_health.rtt_p95_ms
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "rtt"
    expression  = "IF(samples >= ${var.client_health.min_reports}, p95, 0)"
    label       = "ClientRttP95 ${var.client_health.rtt_statistic} over clients"
    return_data = true
  }

  metric_query {
    id = "p95"

    metric {
      namespace   = local.metric_namespace
      metric_name = "ClientRttP95"
      dimensions  = { Service = var.client_health.service }
      stat        = var.client_health.rtt_statistic
      period      = var.period_seconds
    }
  }

  metric_query {
    id = "samples"

    metric {
      namespace   = local.metric_namespace
      metric_name = "ClientRttP95"
      dimensions  = { Service = var.client_health.service }
      stat        = "SampleCount"
      period      = var.period_seconds
    }
  }

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

# Faults: a handler's catch-all caught an unexpected error (EMF metric, Service dimension).
resource "aws_cloudwatch_metric_alarm" "faults" {
  for_each = local.create_alarms ? local.services : {}

  alarm_name          = "${var.name}-${each.key}-faults"
  alarm_description   = "The ${each.key} function hit an unexpected error (its catch-all caught it; users were answered INTERNAL or 500). Find the error in its log group. See docs/operations.md."
  namespace           = local.metric_namespace
  metric_name         = "Faults"
  dimensions          = { Service = each.value }
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.fault_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "jwks_unavailable" {
  count = local.create_alarms && var.authorizer != null ? 1 : 0

  alarm_name          = "${var.name}-authorizer-jwks-unavailable"
  alarm_description   = "The authorizer refused connections because it could not fetch the identity provider's JWKS: valid users cannot connect. Check the JWKS URI, the IdP's status and the authorizer's network path. See docs/operations.md."
  namespace           = local.metric_namespace
  metric_name         = "JwksUnavailable"
  dimensions          = { Service = var.authorizer.service }
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.authorizer.jwks_unavailable_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

# Refusals by design (a bad or expired token, the per-user cap) are not faults; a sudden
# surge of them is worth a look (a broken client release, an IdP key rotation, an attack).
resource "aws_cloudwatch_metric_alarm" "refusals" {
  count = local.create_alarms && var.refusals != null ? 1 : 0

  alarm_name          = "${var.name}-refusals-spike"
  alarm_description   = "More than ${var.refusals.threshold} refusals in a period (the authorizer's Refused, for $connect and for the HTTP API's token routes, and $connect's): a client release sending bad tokens, an identity provider change, or someone probing. See docs/operations.md."
  evaluation_periods  = var.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.refusals.threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "refused"
    expression  = join(" + ", [for index, service in var.refusals.services : "FILL(r${index}, 0)"])
    label       = "Refused connections"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = var.refusals.services

    content {
      id = "r${metric_query.key}"

      metric {
        namespace   = local.metric_namespace
        metric_name = "Refused"
        dimensions  = { Service = metric_query.value }
        stat        = "Sum"
        period      = var.period_seconds
      }
    }
  }

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "table" {
  for_each = local.create_alarms && length(local.table_operations) > 0 ? {
    throttles     = { metric_name = "ThrottledRequests", threshold = var.table.throttle_threshold, description = "DynamoDB throttled requests of the functions on ${var.table.name}: on-demand tables throttle at sudden traffic multiples and at the table's maximum throughput; provisioned tables at their capacity." }
    system-errors = { metric_name = "SystemErrors", threshold = var.table.system_error_threshold, description = "DynamoDB answered the functions' requests on ${var.table.name} with 500 errors (a DynamoDB-side fault; the SDK retried)." }
  } : {}

  alarm_name          = "${var.name}-dynamodb-${each.key}"
  alarm_description   = "${each.value.description} See docs/operations.md."
  evaluation_periods  = var.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "total"
    expression  = join(" + ", [for index, operation in local.table_operations : "FILL(m${index}, 0)"])
    label       = "${each.value.metric_name}, all operations"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = local.table_operations

    content {
      id = "m${metric_query.key}"

      metric {
        namespace   = "AWS/DynamoDB"
        metric_name = each.value.metric_name
        dimensions  = { TableName = var.table.name, Operation = metric_query.value }
        stat        = "Sum"
        period      = var.period_seconds
      }
    }
  }

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "iterator_age" {
  count = local.create_alarms && var.stream != null ? 1 : 0

  alarm_name          = "${var.name}-broadcaster-iterator-age"
  alarm_description   = "The broadcaster is falling behind its stream: pushes arrive late, and records near the age limit go to the failure queue. See docs/operations.md."
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
  alarm_description   = "Records that could not be delivered are waiting in ${each.value}: inspect them, fix the cause, then redrive. See docs/operations.md."
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
  alarm_description   = "${each.key} could not deliver messages to live connections after retries: look for throttling (429), 403 (IAM or a wrong callback URL) or timeouts in its log. See docs/operations.md."
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

resource "aws_cloudwatch_metric_alarm" "management_api_throttles" {
  for_each = local.create_alarms ? toset(local.fan_out_services) : toset([])

  alarm_name          = "${var.name}-${each.key}-management-api-throttled"
  alarm_description   = "${each.key} got 429 from the API Gateway management API (PostToConnection shares the account's 10,000 rps callback limit with every API in the Region): deliveries slow down and may fail. See docs/operations.md."
  namespace           = local.metric_namespace
  metric_name         = "Throttled"
  dimensions          = { Service = each.key }
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.fan_out.throttled_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "fan_out_duration" {
  for_each = local.create_alarms ? toset(local.fan_out_services) : toset([])

  alarm_name          = "${var.name}-${each.key}-fan-out-duration-p99"
  alarm_description   = "p99 fan-out time of ${each.key} is over ${var.fan_out.duration_p99_ms} ms: large topics, management API throttling or a slow table. See docs/operations.md."
  namespace           = local.metric_namespace
  metric_name         = "FanOutDuration"
  dimensions          = { Service = each.key }
  extended_statistic  = "p99"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.fan_out.duration_p99_ms
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.create && var.create_dashboard ? 1 : 0

  dashboard_name = var.name
  dashboard_body = jsonencode({
    widgets = [for widget in local.widgets : jsondecode(widget)]
  })
}
