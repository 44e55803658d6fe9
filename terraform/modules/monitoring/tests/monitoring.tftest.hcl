mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      id   = "eu-west-1"
      name = "eu-west-1"
    }
  }

  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:eu-west-1:123456789012:wskit-test-alarms"
    }
  }
}

variables {
  name = "wskit-test"
  api = {
    id    = "a1b2c3d4e5"
    stage = "test"
  }
  function_names = {
    connect    = "wskit-test-connect"
    disconnect = "wskit-test-disconnect"
    message    = "wskit-test-message"
    authorizer = "wskit-test-authorizer"
  }
  error_alarm_excluded_functions = ["authorizer"]
  authorizer = {
    service = "wskit-authorizer"
  }
  refusals = {
    services              = ["wskit-authorizer", "wskit-connect"]
    rate_limited_services = ["wskit-message", "wskit-http"]
  }
  http_api = {
    id    = "h1t2t3p4a5"
    stage = "test"
  }
  client_health = {
    service = "wskit-message"
  }
  connections = {
    connect_service     = "wskit-connect"
    disconnect_function = "wskit-test-disconnect"
  }
  table = {
    name       = "wskit-test-connections"
    operations = ["BatchWriteItem", "DeleteItem", "PutItem", "Query"]
  }
  stream = {
    function_name = "wskit-test-broadcaster"
  }
  failure_queues = {
    broadcaster = "wskit-test-broadcast-failures"
  }
  fan_out = {
    services = ["wskit-message", "wskit-broadcaster"]
  }
  create_sns_topic = true
}

run "faults_page_refusals_do_not" {
  command = apply

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.api)) == toset(["execution-errors"])
    error_message = "The API alarms on ExecutionError only: IntegrationError counts $connect's refusals by design (401, 429)."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.api["execution-errors"].metric_name == "ExecutionError" && aws_cloudwatch_metric_alarm.api["execution-errors"].dimensions == tomap({ ApiId = "a1b2c3d4e5", Stage = "test" })
    error_message = "API alarms watch this API's stage."
  }

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.function)) == toset(["connect-errors", "connect-throttles", "disconnect-errors", "disconnect-throttles", "message-errors", "message-throttles", "authorizer-throttles"])
    error_message = "Every function's Throttles are alarmed; Lambda Errors of every function but the authorizer (whose errors are its refusals)."
  }

  assert {
    condition = alltrue([for key in ["connect", "disconnect", "message", "authorizer"] :
      aws_cloudwatch_metric_alarm.faults[key].namespace == "wskit/wskit-test" &&
      aws_cloudwatch_metric_alarm.faults[key].metric_name == "Faults" &&
      aws_cloudwatch_metric_alarm.faults[key].dimensions == tomap({ Service = "wskit-${key}" }) &&
      aws_cloudwatch_metric_alarm.faults[key].comparison_operator == "GreaterThanThreshold" &&
      aws_cloudwatch_metric_alarm.faults[key].threshold == 0
    ])
    error_message = "Every function's Faults (Service = wskit-<function>) page on the first one."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.jwks_unavailable[0].metric_name == "JwksUnavailable" && aws_cloudwatch_metric_alarm.jwks_unavailable[0].dimensions == tomap({ Service = "wskit-authorizer" }) && aws_cloudwatch_metric_alarm.jwks_unavailable[0].threshold == 0
    error_message = "A refusal because the JWKS could not be fetched is a fault."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.function["message-throttles"].metric_name == "Throttles" && aws_cloudwatch_metric_alarm.function["message-throttles"].dimensions.FunctionName == "wskit-test-message"
    error_message = "Function alarms are per function."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.iterator_age[0].metric_name == "IteratorAge" && aws_cloudwatch_metric_alarm.iterator_age[0].threshold == 60000
    error_message = "The broadcaster's iterator age is alarmed."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.failure_queue["broadcaster"].dimensions.QueueName == "wskit-test-broadcast-failures" && aws_cloudwatch_metric_alarm.failure_queue["broadcaster"].threshold == 0
    error_message = "Any message in the failure queue raises an alarm."
  }

  assert {
    condition = alltrue(concat(
      [for alarm in aws_cloudwatch_metric_alarm.function : alarm.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:wskit-test-alarms"])],
      [for alarm in aws_cloudwatch_metric_alarm.faults : alarm.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:wskit-test-alarms"])],
      [for alarm in aws_cloudwatch_metric_alarm.table : alarm.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:wskit-test-alarms"])],
    ))
    error_message = "Alarms notify the topic."
  }
}

run "refusals_get_a_spike_alarm_on_the_sum_of_refused" {
  command = plan

  assert {
    condition     = aws_cloudwatch_metric_alarm.refusals[0].threshold == 100 && aws_cloudwatch_metric_alarm.refusals[0].comparison_operator == "GreaterThanThreshold"
    error_message = "The refusal spike alarm fires above 100 refusals per period by default."
  }

  assert {
    condition = toset([
      for query in aws_cloudwatch_metric_alarm.refusals[0].metric_query : "${query.metric[0].metric_name} ${query.metric[0].dimensions.Service}" if length(query.metric) > 0
    ]) == toset(["Refused wskit-authorizer", "Refused wskit-connect"])
    error_message = "The spike alarm sums the authorizer's and $connect's Refused metrics."
  }

  assert {
    condition     = one([for query in aws_cloudwatch_metric_alarm.refusals[0].metric_query : query.expression if query.return_data == true]) == "FILL(r0, 0) + FILL(r1, 0)"
    error_message = "The alarm's value is their sum, a missing series counting as 0."
  }
}

run "dynamodb_throttles_and_system_errors_over_the_operations_used" {
  command = plan

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.table)) == toset(["throttles", "system-errors"])
    error_message = "The table's ThrottledRequests and SystemErrors are alarmed."
  }

  assert {
    condition = toset([
      for query in aws_cloudwatch_metric_alarm.table["throttles"].metric_query : query.metric[0].dimensions.Operation if length(query.metric) > 0
    ]) == toset(["BatchWriteItem", "DeleteItem", "PutItem", "Query"])
    error_message = "ThrottledRequests is summed over every operation the functions call (the metric is per operation)."
  }

  assert {
    condition     = alltrue([for query in aws_cloudwatch_metric_alarm.table["system-errors"].metric_query : query.metric[0].metric_name == "SystemErrors" && query.metric[0].dimensions.TableName == "wskit-test-connections" if length(query.metric) > 0])
    error_message = "SystemErrors are watched on the connections table."
  }
}

run "fan_out_alarms_on_failures_throttling_and_duration" {
  command = apply

  assert {
    condition = alltrue([for service in ["wskit-message", "wskit-broadcaster"] :
      aws_cloudwatch_metric_alarm.failed_deliveries[service].namespace == "wskit/wskit-test" &&
      aws_cloudwatch_metric_alarm.failed_deliveries[service].metric_name == "Failed" &&
      aws_cloudwatch_metric_alarm.failed_deliveries[service].dimensions == tomap({ Service = service }) &&
      aws_cloudwatch_metric_alarm.failed_deliveries[service].threshold == 10
    ])
    error_message = "Each fan-out service alarms on its Failed EMF metric (namespace wskit/<name>, dimension Service), threshold 10 by default."
  }

  assert {
    condition = alltrue([for service in ["wskit-message", "wskit-broadcaster"] :
      aws_cloudwatch_metric_alarm.management_api_throttles[service].metric_name == "Throttled" && aws_cloudwatch_metric_alarm.management_api_throttles[service].threshold == 10 &&
      aws_cloudwatch_metric_alarm.fan_out_duration[service].metric_name == "FanOutDuration" && aws_cloudwatch_metric_alarm.fan_out_duration[service].extended_statistic == "p99" && aws_cloudwatch_metric_alarm.fan_out_duration[service].threshold == 10000
    ])
    error_message = "Management API throttling (429s) and p99 fan-out duration are alarmed per sender."
  }

  assert {
    condition     = contains(output.alarm_names, "wskit-test-wskit-message-failed-deliveries") && output.metric_namespace == "wskit/wskit-test"
    error_message = "The fan-out alarms are listed, and the namespace the functions must write to is an output."
  }
}

run "thresholds_are_inputs" {
  command = plan

  variables {
    fault_threshold = 2
    authorizer      = { service = "wskit-authorizer", jwks_unavailable_threshold = 3 }
    refusals        = { services = ["wskit-authorizer"], threshold = 500 }
    table           = { name = "t", operations = ["Query"], throttle_threshold = 4, system_error_threshold = 5 }
    fan_out         = { services = ["wskit-message"], failed_delivery_threshold = 6, throttled_threshold = 7, duration_p99_ms = 8000 }
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.faults["message"].threshold == 2 &&
      aws_cloudwatch_metric_alarm.jwks_unavailable[0].threshold == 3 &&
      aws_cloudwatch_metric_alarm.refusals[0].threshold == 500 &&
      aws_cloudwatch_metric_alarm.table["throttles"].threshold == 4 &&
      aws_cloudwatch_metric_alarm.table["system-errors"].threshold == 5 &&
      aws_cloudwatch_metric_alarm.failed_deliveries["wskit-message"].threshold == 6 &&
      aws_cloudwatch_metric_alarm.management_api_throttles["wskit-message"].threshold == 7 &&
      aws_cloudwatch_metric_alarm.fan_out_duration["wskit-message"].threshold == 8000
    )
    error_message = "Every threshold comes from its input."
  }
}

run "metric_namespace_can_be_set" {
  command = plan

  variables {
    metric_namespace = "platform/realtime"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.failed_deliveries["wskit-message"].namespace == "platform/realtime" && aws_cloudwatch_metric_alarm.faults["connect"].namespace == "platform/realtime" && aws_cloudwatch_metric_alarm.jwks_unavailable[0].namespace == "platform/realtime"
    error_message = "One namespace for every custom metric."
  }
}

run "aws_namespaces_are_refused" {
  command = plan

  variables {
    metric_namespace = "AWS/Lambda"
  }

  expect_failures = [var.metric_namespace]
}

run "dashboard_shows_what_operators_look_at" {
  command = plan

  assert {
    condition = output.dashboard_widget_titles == tolist([
      "Connections and messages (per minute)", "API errors (IntegrationError includes $connect refusals by design)", "Integration latency",
      "HTTP API requests and errors (per minute; 4xx are answers by design)", "HTTP API latency (ms)",
      "Clients: reconnects and failed connects per report", "Clients: round trip (ms) over the reporting clients", "Clients: time in each connection quality (%)", "Clients: reports, messages received and gaps (per 5 minutes)",
      "Connections opened and closed (per minute)", "Open connections, upper bound (opened per 2 h bucket)",
      "Refusals by design (per minute): tokens refused, per-user cap, rate limit",
      "Faults (any is a page)",
      "Lambda Invocations", "Lambda Errors (the authorizer's are its refusals)", "Lambda Throttles", "Lambda Duration", "Lambda ConcurrentExecutions",
      "DynamoDB consumed capacity (units per minute)", "DynamoDB throttles and system errors", "TTL deletions (rows a lost $disconnect left behind)",
      "Fan-out deliveries (per minute)", "Management API: throttled (429) and retries", "Fan-out duration (ms)",
      "Broadcaster iterator age", "Failure queue depth",
    ])
    error_message = "The dashboard covers both APIs, the clients' health, connections, refusals, faults, the functions, the table, fan-out and the broadcaster."
  }

  assert {
    condition = toset(flatten([
      for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [for metric in widget.properties.metrics : "${metric[0]} ${metric[1]}" if length(metric) > 1]
      ])) == toset([
      "AWS/ApiGateway ConnectCount", "AWS/ApiGateway MessageCount", "AWS/ApiGateway ClientError", "AWS/ApiGateway ExecutionError", "AWS/ApiGateway IntegrationError", "AWS/ApiGateway IntegrationLatency",
      "AWS/ApiGateway Count", "AWS/ApiGateway 4xx", "AWS/ApiGateway 5xx", "AWS/ApiGateway Latency",
      "wskit/wskit-test ClientReports", "wskit/wskit-test ClientReconnects", "wskit/wskit-test ClientFailedConnects", "wskit/wskit-test ClientRttP95", "wskit/wskit-test ClientRttP50",
      "wskit/wskit-test ClientQualityGood", "wskit/wskit-test ClientQualityDegraded", "wskit/wskit-test ClientQualityPoor",
      "wskit/wskit-test ClientMessagesReceived", "wskit/wskit-test ClientRecoveredGaps", "wskit/wskit-test ClientUnrecoveredGaps",
      "wskit/wskit-test Connected", "AWS/Lambda Invocations",
      "wskit/wskit-test Refused", "wskit/wskit-test Allowed", "wskit/wskit-test RateLimited",
      "wskit/wskit-test Faults", "wskit/wskit-test JwksUnavailable",
      "AWS/Lambda Errors", "AWS/Lambda Throttles", "AWS/Lambda Duration", "AWS/Lambda ConcurrentExecutions",
      "AWS/DynamoDB ConsumedReadCapacityUnits", "AWS/DynamoDB ConsumedWriteCapacityUnits", "AWS/DynamoDB ThrottledRequests", "AWS/DynamoDB SystemErrors", "AWS/DynamoDB TimeToLiveDeletedItemCount",
      "wskit/wskit-test Recipients", "wskit/wskit-test Delivered", "wskit/wskit-test Gone", "wskit/wskit-test Failed",
      "wskit/wskit-test Throttled", "wskit/wskit-test Retried", "wskit/wskit-test Retries", "wskit/wskit-test FanOutDuration",
      "AWS/Lambda IteratorAge", "AWS/SQS ApproximateNumberOfMessagesVisible",
    ])
    error_message = "The dashboard charts exactly the metrics the functions and AWS publish for wskit."
  }

  assert {
    condition = one([
      for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : widget.properties.period if widget.properties.title == "Open connections, upper bound (opened per 2 h bucket)"
    ]) == 7200
    error_message = "The open-connections bound sums connects over API Gateway's 2-hour connection lifetime."
  }

  assert {
    condition = alltrue(flatten([
      for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [
        for metric in widget.properties.metrics : try(metric[2] == "Service" && metric[3] == "wskit-message" && length(metric) <= 5, false) if try(metric[0] == "wskit/wskit-test" && startswith(metric[1], "Client"), false)
      ]
    ]))
    error_message = "The client health row reads the [Service] dimension set of the message router (every client version together)."
  }

  assert {
    condition = alltrue([
      for row in [[0, 3], [3, 5], [5, 9], [9, 13]] :
      sum([for widget in slice(jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets, row[0], row[1]) : widget.width]) == 24
    ])
    error_message = "The WebSocket API, the HTTP API, the clients and the connections each fill a row of their own (24 columns)."
  }
}

run "http_api_alarms_on_server_errors_and_latency" {
  command = plan

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.http_api_server_errors[0].namespace == "AWS/ApiGateway" &&
      aws_cloudwatch_metric_alarm.http_api_server_errors[0].metric_name == "5xx" &&
      aws_cloudwatch_metric_alarm.http_api_server_errors[0].dimensions == tomap({ ApiId = "h1t2t3p4a5", Stage = "test" }) &&
      aws_cloudwatch_metric_alarm.http_api_server_errors[0].threshold == 1 &&
      aws_cloudwatch_metric_alarm.http_api_server_errors[0].comparison_operator == "GreaterThanOrEqualToThreshold"
    )
    error_message = "Any 5xx of the HTTP API's stage pages by default."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.http_api_latency[0].metric_name == "Latency" && aws_cloudwatch_metric_alarm.http_api_latency[0].extended_statistic == "p99" && aws_cloudwatch_metric_alarm.http_api_latency[0].threshold == 5000
    error_message = "p99 latency of the HTTP API over 5 s raises an alarm."
  }

  assert {
    condition     = !anytrue([for alarm in output.alarm_names : strcontains(alarm, "4xx")])
    error_message = "4xx are answers by design (401, 403, 404, 413, 429): never alarmed."
  }
}

run "client_health_alarms_on_rates_and_round_trip" {
  command = plan

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.client_rate)) == toset(["reconnects", "failed-connects"]) && length(aws_cloudwatch_metric_alarm.client_rtt) == 1
    error_message = "Reconnects, failed connects and the round trip are alarmed."
  }

  assert {
    condition = alltrue(flatten([
      for key, alarm in aws_cloudwatch_metric_alarm.client_rate : [
        for query in alarm.metric_query : query.metric[0].namespace == "wskit/wskit-test" && query.metric[0].dimensions == tomap({ Service = "wskit-message" }) && query.metric[0].stat == "Sum" if length(query.metric) > 0
      ]
    ]))
    error_message = "The client alarms read sums of the [Service] dimension set (every client version together)."
  }

  assert {
    condition = (
      toset([for query in aws_cloudwatch_metric_alarm.client_rate["reconnects"].metric_query : query.metric[0].metric_name if length(query.metric) > 0]) == toset(["ClientReports", "ClientReconnects"]) &&
      toset([for query in aws_cloudwatch_metric_alarm.client_rate["failed-connects"].metric_query : query.metric[0].metric_name if length(query.metric) > 0]) == toset(["ClientReports", "ClientFailedConnects"])
    )
    error_message = "Each rate divides its counter by the reports."
  }

  assert {
    condition = alltrue([
      for alarm in aws_cloudwatch_metric_alarm.client_rate :
      one([for query in alarm.metric_query : query.expression if query.return_data == true]) == "IF(reports >= 20, FILL(events, 0) / reports, 0)"
    ])
    error_message = "A rate counts only with at least 20 reports in the period (default), a missing counter as 0."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.client_rate["reconnects"].threshold == 0.1 && aws_cloudwatch_metric_alarm.client_rate["failed-connects"].threshold == 0.1 && aws_cloudwatch_metric_alarm.client_rate["reconnects"].comparison_operator == "GreaterThanThreshold"
    error_message = "Above 0.1 reconnects or failed connects per report by default."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.client_rtt[0].threshold == 1000 &&
      one([for query in aws_cloudwatch_metric_alarm.client_rtt[0].metric_query : query.expression if query.return_data == true]) == "IF(samples >= 20, p95, 0)" &&
      toset([for query in aws_cloudwatch_metric_alarm.client_rtt[0].metric_query : "${query.id} ${query.metric[0].metric_name} ${query.metric[0].stat}" if length(query.metric) > 0]) == toset(["p95 ClientRttP95 p50", "samples ClientRttP95 SampleCount"])
    )
    error_message = "The round-trip alarm compares the median reporting client's p95 (ClientRttP95, p50) with 1000 ms, once 20 clients reported."
  }
}

run "client_health_thresholds_are_inputs" {
  command = plan

  variables {
    client_health = {
      service                    = "wskit-router"
      reconnects_per_report      = 0.3
      failed_connects_per_report = 0.4
      rtt_p95_ms                 = 2000
      rtt_statistic              = "p90"
      min_reports                = 5
    }
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.client_rate["reconnects"].threshold == 0.3 &&
      aws_cloudwatch_metric_alarm.client_rate["failed-connects"].threshold == 0.4 &&
      aws_cloudwatch_metric_alarm.client_rtt[0].threshold == 2000 &&
      one([for query in aws_cloudwatch_metric_alarm.client_rtt[0].metric_query : query.metric[0].stat if length(query.metric) > 0 && query.id == "p95"]) == "p90" &&
      one([for query in aws_cloudwatch_metric_alarm.client_rtt[0].metric_query : query.expression if query.return_data == true]) == "IF(samples >= 5, p95, 0)" &&
      alltrue([for query in aws_cloudwatch_metric_alarm.client_rtt[0].metric_query : query.metric[0].dimensions.Service == "wskit-router" if length(query.metric) > 0])
    )
    error_message = "The service, thresholds, statistic and minimum reports come from client_health."
  }
}

run "client_rtt_statistic_must_be_a_percentile" {
  command = plan

  variables {
    client_health = { service = "wskit-message", rtt_statistic = "Average" }
  }

  expect_failures = [var.client_health]
}

run "optional_parts_are_omitted" {
  command = plan

  variables {
    authorizer       = null
    refusals         = null
    connections      = null
    table            = null
    stream           = null
    failure_queues   = {}
    fan_out          = null
    http_api         = null
    client_health    = null
    create_sns_topic = false
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.failed_deliveries) == 0 && length(aws_cloudwatch_metric_alarm.management_api_throttles) == 0 && length(aws_cloudwatch_metric_alarm.fan_out_duration) == 0
    error_message = "No fan-out alarm without fan-out services."
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.jwks_unavailable) == 0 && length(aws_cloudwatch_metric_alarm.refusals) == 0 && length(aws_cloudwatch_metric_alarm.table) == 0 && length(aws_cloudwatch_metric_alarm.iterator_age) == 0 && length(aws_cloudwatch_metric_alarm.failure_queue) == 0 && length(aws_cloudwatch_metric_alarm.http_api_server_errors) == 0 && length(aws_cloudwatch_metric_alarm.client_rate) == 0 && length(aws_cloudwatch_metric_alarm.client_rtt) == 0
    error_message = "Alarms for absent parts are not created."
  }

  assert {
    condition     = length(aws_sns_topic.this) == 0 && alltrue([for alarm in aws_cloudwatch_metric_alarm.function : length(alarm.alarm_actions) == 0])
    error_message = "Without a topic the alarms have no actions."
  }
}

run "aws_managed_sns_key_is_rejected" {
  command = plan

  variables {
    sns_kms_master_key_id = "alias/aws/sns"
  }

  expect_failures = [var.sns_kms_master_key_id]
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition     = length(output.alarm_names) == 0 && output.dashboard_name == null && output.sns_topic_arn == null
    error_message = "create = false must create nothing."
  }
}

run "dashboard_without_alarms" {
  command = plan

  variables {
    create_alarms = false
  }

  assert {
    condition     = length(output.alarm_names) == 0 && length(aws_sns_topic.this) == 0
    error_message = "create_alarms = false creates no alarm and no topic."
  }

  assert {
    condition     = length(aws_cloudwatch_dashboard.this) == 1
    error_message = "The dashboard stays without alarms."
  }
}
