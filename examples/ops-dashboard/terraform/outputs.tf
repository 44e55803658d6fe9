output "wss_url" {
  description = "What the dashboard connects to (add ?token=<JWT>)."
  value       = module.websocket.wss_url
}

output "metrics_table_name" {
  description = "The metrics table (the simulator writes here: npm run -w @wskit/example-ops-dashboard simulate)."
  value       = aws_dynamodb_table.metrics.name
}

output "coalescer_function_name" {
  description = "The coalescer Lambda."
  value       = module.coalescer.function_name
}

output "broadcaster_source_queue_url" {
  description = "Where the coalescer sends its updates."
  value       = module.websocket.broadcaster_source_queue_url
}

output "failure_queue_urls" {
  description = "What could not be delivered: stream batches the coalescer gave up on, and messages the broadcaster could not fan out."
  value = {
    metrics_stream = module.metrics_stream.failure_queue_url
    broadcaster    = module.websocket.broadcaster_failure_queue_url
  }
}
