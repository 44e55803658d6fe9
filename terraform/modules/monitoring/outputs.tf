output "sns_topic_arn" {
  description = "ARN of the topic the alarms notify (created or passed in), null when there is none."
  value       = var.create ? local.topic_arn : null
}

output "alarm_names" {
  description = "Names of every alarm the module created."
  value = concat(
    [for alarm in aws_cloudwatch_metric_alarm.api : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.api_latency : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.function : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.iterator_age : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.failure_queue : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.failed_deliveries : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.faults : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.jwks_unavailable : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.refusals : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.table : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.management_api_throttles : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.fan_out_duration : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.http_api_server_errors : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.http_api_latency : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.client_rate : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.client_rtt : alarm.alarm_name],
  )
}

output "alarm_arns" {
  description = "Map of alarm name to ARN."
  value = merge(
    { for alarm in aws_cloudwatch_metric_alarm.api : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.api_latency : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.function : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.iterator_age : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.failure_queue : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.failed_deliveries : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.faults : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.jwks_unavailable : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.refusals : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.table : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.management_api_throttles : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.fan_out_duration : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.http_api_server_errors : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.http_api_latency : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.client_rate : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.client_rtt : alarm.alarm_name => alarm.arn },
  )
}

output "alarm_thresholds" {
  description = "Map of alarm name to its threshold (the value it compares each period's statistic or expression with)."
  value = merge([
    for alarms in [
      aws_cloudwatch_metric_alarm.api, aws_cloudwatch_metric_alarm.api_latency, aws_cloudwatch_metric_alarm.function,
      aws_cloudwatch_metric_alarm.iterator_age, aws_cloudwatch_metric_alarm.failure_queue, aws_cloudwatch_metric_alarm.failed_deliveries,
      aws_cloudwatch_metric_alarm.faults, aws_cloudwatch_metric_alarm.jwks_unavailable, aws_cloudwatch_metric_alarm.refusals,
      aws_cloudwatch_metric_alarm.table, aws_cloudwatch_metric_alarm.management_api_throttles, aws_cloudwatch_metric_alarm.fan_out_duration,
      aws_cloudwatch_metric_alarm.http_api_server_errors, aws_cloudwatch_metric_alarm.http_api_latency,
      aws_cloudwatch_metric_alarm.client_rate, aws_cloudwatch_metric_alarm.client_rtt,
    ] : { for alarm in alarms : alarm.alarm_name => alarm.threshold }
  ]...)
}

output "metric_namespace" {
  description = "Namespace of the functions' EMF metrics (set every function's WSKIT_METRICS_NAMESPACE to it; websocket-service does)."
  value       = local.metric_namespace
}

output "dashboard_name" {
  description = "Name of the dashboard, null when not created."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_name, null)
}

output "dashboard_arn" {
  description = "ARN of the dashboard, null when not created."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_arn, null)
}

output "dashboard_widget_titles" {
  description = "Titles of the dashboard's widgets, in order (empty when no dashboard)."
  value       = var.create && var.create_dashboard ? [for widget in local.widgets : jsondecode(widget).properties.title] : []
}
