provider "aws" {
  region = "eu-west-1"
}

variable "hosted_zone_id" {
  description = "Route 53 zone of example.com."
  type        = string
  default     = "Z0123456789ABCDEFGHIJ"
}

# Custom domain, header or query tokens, public topics, a broadcaster fed by an SQS
# queue the module creates, and alarms to an SNS topic.
module "websocket" {
  # How another team pins the module: a git source at a release tag. The repository's checks
  # rewrite this source to the local module, so the example validates against this tree.
  source = "git::https://github.com/<org>/wskit.git//terraform/modules/websocket-service?ref=v0.2.0"

  name               = "wskit-complete"
  stage_name         = "live"
  lambda_package_dir = "${path.root}/dist/lambda" # the zips ./build.sh writes, copied here by your pipeline

  jwks_uri       = "https://idp.example.com/.well-known/jwks.json"
  jwt_issuer     = "https://idp.example.com/"
  jwt_audience   = ["wskit", "wskit-mobile"]
  jwt_algorithms = ["RS256", "ES256"]
  token_sources  = ["query:token"]

  public_topic_prefixes    = ["public:"]
  max_connections_per_user = 5

  log_retention_in_days  = 90
  throttling_burst_limit = 2000
  throttling_rate_limit  = 5000
  reserved_concurrent_executions = {
    message = 200
  }

  domain_name    = "ws.example.com"
  hosted_zone_id = var.hosted_zone_id

  broadcaster = {
    enabled             = true
    source_type         = "sqs"
    batch_size          = 10
    maximum_concurrency = 50
  }

  create_alarm_topic    = true
  alarm_email_addresses = ["oncall@example.com"]

  tags = {
    Project = "wskit-example"
  }
}

output "wss_url" {
  description = "wss://ws.example.com"
  value       = module.websocket.wss_url
}

output "callback_url" {
  description = "Management API base URL (execute-api host)."
  value       = module.websocket.callback_url
}

output "broadcaster_source_queue_url" {
  description = "Send {\"topic\": ..., \"data\": ...} here."
  value       = module.websocket.broadcaster_source_queue_url
}
