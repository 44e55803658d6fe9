variable "region" {
  description = "AWS Region of the environment."
  type        = string
  default     = "eu-west-1"
}

variable "name" {
  description = "Service name; prefixes every resource."
  type        = string
  default     = "wskit-staging"
}

variable "lambda_package_dir" {
  description = "Directory with the zips ./build.sh writes. Null: dist/lambda at the repository root."
  type        = string
  default     = null
}

variable "jwks_uri" {
  description = "JWKS URL of the identity provider."
  type        = string
}

variable "jwt_issuer" {
  description = "Required iss claim."
  type        = string
}

variable "jwt_audience" {
  description = "Accepted aud values."
  type        = list(string)
}

variable "token_sources" {
  description = "Where the authorizer looks for the token: query:<name> or header:<name>."
  type        = list(string)
  default     = ["query:token"]
}

variable "public_topic_prefixes" {
  description = "Topic prefixes anyone signed in may use."
  type        = list(string)
  default     = ["public:"]
}

variable "max_connections_per_user" {
  description = "Open connections per user; 0 means no cap."
  type        = number
  default     = 10
}

variable "tracing_mode" {
  description = "X-Ray tracing of every function: Active or PassThrough. The one switch per environment (staging: Active)."
  type        = string
  default     = "Active"
}

variable "rate_limits" {
  description = "Frames per connection and publishes per user per window (WSKIT_FRAME_RATE_LIMIT, WSKIT_PUBLISH_RATE_LIMIT, WSKIT_RATE_LIMIT_WINDOW_SECONDS; 0 = no limit). Over them the message router and the HTTP API answer RATE_LIMITED (429) with when to retry."
  type = object({
    frames_per_connection = optional(number, 120)
    publishes_per_user    = optional(number, 100)
    window_seconds        = optional(number, 10)
  })
  default = {}
}

variable "history" {
  description = "How long and how many of each topic's latest messages stay retrievable for resume and the HTTP history (WSKIT_HISTORY_RETENTION_SECONDS, WSKIT_HISTORY_MAX_MESSAGES)."
  type = object({
    retention_seconds = optional(number, 600)
    max_messages      = optional(number, 1000)
  })
  default = {}
}

variable "http_api_cors_allow_origins" {
  description = "Origins of browser pages allowed to call the HTTP API (CORS), e.g. [\"https://app.staging.example.com\"]. Empty: no CORS."
  type        = list(string)
  default     = []
}

variable "api_gateway_logging_role_name" {
  description = "The CloudWatch Logs role terraform/environments/bootstrap registered in API Gateway's account settings for this Region; the plan fails, saying what to apply, when it does not exist. Null: the bootstrap's name, wskit-apigateway-logs-<region>. Empty string: do not check (an account baseline manages the setting)."
  type        = string
  default     = null
}

variable "lambda_artifacts" {
  description = <<-EOT
    Deploy the functions from the zips a pipeline uploaded to S3 (the bootstrap's artifacts bucket)
    instead of the local dist/lambda: the bucket, a key prefix (objects are <key_prefix><name>.zip) and
    each function's object version id. Null: local zips from ./build.sh.
  EOT
  type = object({
    bucket     = string
    key_prefix = optional(string, "")
    versions   = map(string)
  })
  default = null
}

variable "domain_name" {
  description = "Optional custom domain (e.g. ws.staging.example.com)."
  type        = string
  default     = null
}

variable "hosted_zone_id" {
  description = "Route 53 hosted zone of domain_name."
  type        = string
  default     = null
}

variable "broadcaster_enabled" {
  description = "Deploy the broadcaster (needs dist/lambda/broadcaster.zip)."
  type        = bool
  default     = false
}

variable "broadcaster_source_type" {
  description = "sqs (a queue the module creates, or broadcaster_event_source_arn) or dynamodb (an application table's stream)."
  type        = string
  default     = "sqs"
}

variable "broadcaster_event_source_arn" {
  description = "Stream or queue ARN the broadcaster reads; null with sqs creates a queue."
  type        = string
  default     = null
}

variable "alarm_email_addresses" {
  description = "Emails that receive the alarms."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

variable "reserved_concurrency" {
  description = "Reserved concurrency of the message router (a cap, so a message flood cannot take the account's concurrency from $connect and the authorizer) and of connect and the authorizer (each a guaranteed share). See ../README.md for the arithmetic against the account's limit."
  type = object({
    message    = optional(number, 100)
    connect    = optional(number, 20)
    authorizer = optional(number, 20)
  })
  default = {}
}

variable "management_quota" {
  description = "The account's @connections quota in this Region (rate per second, burst): set what AWS granted after an increase; handed-off fan-outs of big topics plan and pace from it. null = AWS's defaults, 10000 and 5000."
  type = object({
    rate  = optional(number)
    burst = optional(number)
  })
  default = {}
}

variable "fanout" {
  description = "Big topics (docs/big-topics.md): inline_limit (audiences above it are handed to the fan-out queue, 2000), shard_rate, quota_percent, maximum_concurrency of the shard jobs. Needs the broadcaster (broadcaster_enabled); null = the handlers' defaults."
  type = object({
    inline_limit        = optional(number)
    shard_rate          = optional(number)
    quota_percent       = optional(number)
    maximum_concurrency = optional(number)
  })
  default = {}
}
