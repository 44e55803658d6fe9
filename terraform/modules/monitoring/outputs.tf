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
    [for alarm in aws_cloudwatch_metric_alarm.authorizer_denials : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.iterator_age : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.failure_queue : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.failed_deliveries : alarm.alarm_name],
  )
}

output "alarm_arns" {
  description = "Map of alarm name to ARN."
  value = merge(
    { for alarm in aws_cloudwatch_metric_alarm.api : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.api_latency : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.function : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.authorizer_denials : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.iterator_age : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.failure_queue : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.failed_deliveries : alarm.alarm_name => alarm.arn },
  )
}

output "authorizer_denials_metric" {
  description = "Namespace and name of the custom metric counting authorizer denials, null when not created."
  value       = try({ namespace = local.metric_namespace, name = aws_cloudwatch_log_metric_filter.authorizer_denials[0].metric_transformation[0].name }, null)
}

output "metric_namespace" {
  description = "Namespace of the custom metrics (set WSKIT_METRICS_NAMESPACE of the message and broadcaster functions to it)."
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
