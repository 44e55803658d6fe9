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
    message    = "wskit-test-message"
    authorizer = "wskit-test-authorizer"
  }
  authorizer_denials = {
    log_group_name = "/aws/lambda/wskit-test-authorizer"
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

run "every_signal_has_an_alarm" {
  command = apply

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.api)) == toset(["execution-errors", "integration-errors"])
    error_message = "The API alarms on ExecutionError and IntegrationError."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.api["execution-errors"].metric_name == "ExecutionError" && aws_cloudwatch_metric_alarm.api["execution-errors"].dimensions == tomap({ ApiId = "a1b2c3d4e5", Stage = "test" })
    error_message = "API alarms watch this API's stage."
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.function) == 6
    error_message = "Each function gets an Errors and a Throttles alarm."
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
      [for alarm in aws_cloudwatch_metric_alarm.api : alarm.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:wskit-test-alarms"])],
    ))
    error_message = "Alarms notify the topic."
  }
}

run "failed_deliveries_alarm_on_the_emf_metric_of_each_service" {
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
    condition     = contains(output.alarm_names, "wskit-test-wskit-message-failed-deliveries") && output.metric_namespace == "wskit/wskit-test"
    error_message = "The fan-out alarms are listed, and the namespace the functions must write to is an output."
  }
}

run "metric_namespace_can_be_set" {
  command = plan

  variables {
    metric_namespace = "platform/realtime"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.failed_deliveries["wskit-message"].namespace == "platform/realtime" && aws_cloudwatch_metric_alarm.authorizer_denials[0].namespace == "platform/realtime"
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

run "authorizer_denials_come_from_the_denial_log_line" {
  command = plan

  assert {
    condition     = aws_cloudwatch_log_metric_filter.authorizer_denials[0].log_group_name == "/aws/lambda/wskit-test-authorizer" && aws_cloudwatch_log_metric_filter.authorizer_denials[0].pattern == "{ $.message = \"authorization denied\" }"
    error_message = "Denials are counted from the authorizer's structured denial line."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.authorizer_denials[0].namespace == "wskit/wskit-test" && aws_cloudwatch_metric_alarm.authorizer_denials[0].metric_name == "AuthorizerDenials"
    error_message = "The denial alarm watches the metric the filter writes."
  }
}

run "dashboard_shows_every_area" {
  command = plan

  assert {
    condition = toset([for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : widget.properties.title]) == toset([
      "Connections and messages", "API errors", "Integration latency",
      "Lambda Invocations", "Lambda Errors", "Lambda Throttles", "Lambda Duration", "Lambda ConcurrentExecutions",
      "Authorizer denials", "Broadcaster iterator age", "Fan-out deliveries", "Failure queue depth",
    ])
    error_message = "The dashboard covers the API, the functions, the authorizer and the broadcaster."
  }
}

run "optional_parts_are_omitted" {
  command = plan

  variables {
    authorizer_denials = null
    stream             = null
    failure_queues     = {}
    fan_out            = null
    create_sns_topic   = false
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.failed_deliveries) == 0
    error_message = "No fan-out alarm without fan-out services."
  }

  assert {
    condition     = length(aws_cloudwatch_log_metric_filter.authorizer_denials) == 0 && length(aws_cloudwatch_metric_alarm.iterator_age) == 0 && length(aws_cloudwatch_metric_alarm.failure_queue) == 0
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
    condition     = length(aws_cloudwatch_dashboard.this) == 1 && length(aws_cloudwatch_log_metric_filter.authorizer_denials) == 1
    error_message = "The dashboard and the denial metric stay without alarms."
  }
}
