output "wss_url" {
  description = "What the page connects to (add ?token=<JWT>)."
  value       = module.websocket.wss_url
}

output "prices_table_name" {
  description = "The prices table (the simulator writes here: npm run -w @wskit/example-stock-portfolio simulate)."
  value       = aws_dynamodb_table.prices.name
}

output "portfolios_table_name" {
  description = "The portfolios table (portfolios and alerts)."
  value       = aws_dynamodb_table.portfolios.name
}

output "broadcaster_function_name" {
  description = "The one broadcaster both streams feed."
  value       = module.websocket.function_names["broadcaster"]
}

output "portfolio_stream_mapping_uuid" {
  description = "The portfolios stream's event source mapping (the prices stream's is the websocket-service module's)."
  value       = module.portfolio_stream.event_source_mapping_uuid
}

output "failure_queue_urls" {
  description = "Records the broadcaster could not deliver, per stream."
  value = {
    prices     = module.websocket.broadcaster_failure_queue_url
    portfolios = module.portfolio_stream.failure_queue_url
  }
}
