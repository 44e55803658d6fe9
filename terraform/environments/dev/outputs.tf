output "wss_url" {
  description = "URL clients connect to (append ?token=<JWT>)."
  value       = module.websocket.wss_url
}

output "http_api_url" {
  description = "Base URL of the HTTP API: GET/POST <url>/topics/<topic, percent-encoded twice>/messages with Authorization: Bearer <JWT>; /iam/... for backends signing with SigV4. The client's httpUrl."
  value       = module.websocket.http_api_url
}

output "http_api_iam_invoke_arns" {
  description = "execute-api ARNs to allow (execute-api:Invoke) in a backend's IAM policy for the /iam routes, by route."
  value       = module.websocket.http_api_iam_invoke_arns
}

output "callback_url" {
  description = "Management API base URL for @connections calls."
  value       = module.websocket.callback_url
}

output "api_id" {
  description = "ID of the WebSocket API."
  value       = module.websocket.api_id
}

output "stage_name" {
  description = "Stage name."
  value       = module.websocket.stage_name
}

output "table_name" {
  description = "Connections table."
  value       = module.websocket.table_name
}

output "function_names" {
  description = "Lambda function names."
  value       = module.websocket.function_names
}

output "broadcaster_source_queue_url" {
  description = "Queue to send {\"topic\", \"data\"} messages to, when the broadcaster created one."
  value       = module.websocket.broadcaster_source_queue_url
}

output "dashboard_name" {
  description = "CloudWatch dashboard."
  value       = module.websocket.dashboard_name
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = module.websocket.alarm_topic_arn
}
