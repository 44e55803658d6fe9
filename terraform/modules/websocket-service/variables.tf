################################################################################
# Naming and packages
################################################################################

variable "name" {
  description = "Service name: prefixes the functions, the API, the table (unless table_name is set) and the alarms, e.g. wskit-prod."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9-]{0,39}$", var.name))
    error_message = "name must start with a letter and be at most 40 letters, digits and '-' (function names append -authorizer and must stay within 64 characters)."
  }
}

variable "stage_name" {
  description = "API stage name; part of the wss:// URL and the callback URL."
  type        = string
  default     = "live"
}

variable "repository_root" {
  description = "Root of the wskit repository whose lambda/<name>/wiring.json and protocol/protocol.json the module reads. Null: the repository this module is in (a git source checks out the whole repository, so the default resolves there too). Set it only when the module was copied out of its repository (e.g. by CDK Terrain)."
  type        = string
  default     = null
}

variable "lambda_package_dir" {
  description = "Directory holding the zips ./build.sh writes (<name>.zip for every function). Null: every function comes from lambda_packages or lambda_s3_packages."
  type        = string
  default     = null
}

variable "lambda_packages" {
  description = "Per-function local zip paths that override lambda_package_dir, keyed by function name (connect, disconnect, message, authorizer, http, broadcaster: one per wiring manifest)."
  type        = map(string)
  default     = {}
}

variable "lambda_s3_packages" {
  description = <<-EOT
    Functions deployed from S3 objects instead of local zips, keyed by function name: bucket, key, and
    version (the object's version id in a versioned bucket: a new version redeploys, the same one never
    churns). source_code_hash (base64 SHA-256 of the zip) is optional: Lambda reports the deployed hash.
  EOT
  type = map(object({
    bucket           = string
    key              = string
    version          = optional(string)
    source_code_hash = optional(string)
  }))
  default = {}
}

################################################################################
# Functions
################################################################################

variable "lambda_runtime" {
  description = "Runtime of every function."
  type        = string
  default     = "nodejs22.x"
}

variable "lambda_architecture" {
  description = "Architecture of every function: arm64 or x86_64 (the bundles are plain JavaScript and run on both)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be arm64 or x86_64."
  }
}

variable "lambda_memory_size" {
  description = "Memory (MB) of every function but the broadcaster (connect, disconnect, message, authorizer, http)."
  type        = number
  default     = 256
}

variable "lambda_timeout" {
  description = "Timeout (seconds) of every function but the broadcaster; API Gateway waits 29 seconds at most."
  type        = number
  default     = 10

  validation {
    condition     = var.lambda_timeout >= 1 && var.lambda_timeout <= 29
    error_message = "lambda_timeout must be between 1 and 29 seconds (API Gateway's integration limit)."
  }
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency per function, keyed by function (connect, disconnect, message, authorizer, http or broadcaster). Absent: unreserved. A reservation is both a guarantee and a cap: reserve the message router to cap it, so a message flood cannot take the concurrency $connect and the authorizer need, and reserve those two so they always have some."
  type        = map(number)
  default     = {}
}

variable "tracing_mode" {
  description = "X-Ray tracing of every function: Active (sampled requests are traced) or PassThrough (only requests that arrive with a sampled trace header are). The environments set it from their tracing_mode variable."
  type        = string
  default     = "Active"

  validation {
    condition     = contains(["Active", "PassThrough"], var.tracing_mode)
    error_message = "tracing_mode must be Active or PassThrough."
  }
}

variable "log_level" {
  description = "WSKIT_LOG_LEVEL of every function: DEBUG, INFO, WARN or ERROR."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARN or ERROR."
  }
}

variable "log_retention_in_days" {
  description = "Retention of every log group (functions and API access logs), in days."
  type        = number
  default     = 30
}

variable "logs_kms_key_arn" {
  description = "Customer managed KMS key for every log group. Null: CloudWatch Logs' default encryption."
  type        = string
  default     = null
}

variable "additional_policy_statements" {
  description = "Extra IAM statements per function (lambda-function policy_statements format), keyed by function (connect, disconnect, message, authorizer, http or broadcaster)."
  type = map(map(object({
    effect    = optional(string, "Allow")
    actions   = list(string)
    resources = list(string)
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  })))
  default = {}
}

################################################################################
# Behaviour (the functions' environment variables, see the repository README)
################################################################################

variable "max_connections_per_user" {
  description = "WSKIT_MAX_CONNECTIONS_PER_USER: open connections one user may hold; 0 means no cap."
  type        = number
  default     = 10

  validation {
    condition     = var.max_connections_per_user >= 0 && floor(var.max_connections_per_user) == var.max_connections_per_user
    error_message = "max_connections_per_user must be a whole number, 0 or more."
  }
}

variable "max_topics_per_connection" {
  description = "Setting max_topics_per_connection (WSKIT_MAX_TOPICS_PER_CONNECTION): subscriptions one connection may hold, 1-1000."
  type        = number
  default     = 100

  validation {
    condition     = var.max_topics_per_connection >= 1 && var.max_topics_per_connection <= 1000 && floor(var.max_topics_per_connection) == var.max_topics_per_connection
    error_message = "max_topics_per_connection must be a whole number from 1 to 1000."
  }
}

variable "rate_limits" {
  description = <<-EOT
    Settings frame_rate_limit, publish_rate_limit and rate_limit_window_seconds (WSKIT_FRAME_RATE_LIMIT, WSKIT_PUBLISH_RATE_LIMIT, WSKIT_RATE_LIMIT_WINDOW_SECONDS):
    frames one connection may send and publishes one user may make per window, counted in the table across every Lambda instance (0 = no limit).
    The frame default lets a client subscribe to 100 topics at once.
  EOT
  type = object({
    frames_per_connection = optional(number, 120)
    publishes_per_user    = optional(number, 100)
    window_seconds        = optional(number, 10)
  })
  default = {}

  validation {
    condition = alltrue([
      for value in [var.rate_limits.frames_per_connection, var.rate_limits.publishes_per_user] : value >= 0 && value <= 1000000 && floor(value) == value
    ]) && var.rate_limits.window_seconds >= 1 && var.rate_limits.window_seconds <= 3600 && floor(var.rate_limits.window_seconds) == var.rate_limits.window_seconds
    error_message = "rate_limits: frames_per_connection and publishes_per_user are whole numbers from 0 to 1000000; window_seconds from 1 to 3600."
  }
}

variable "history" {
  description = <<-EOT
    Settings history_retention_seconds and history_max_messages (WSKIT_HISTORY_RETENTION_SECONDS, WSKIT_HISTORY_MAX_MESSAGES):
    how long and how many of each topic's latest messages stay retrievable for resume (history, subscribe with since).
    retention_seconds = 0 keeps none (messages still get their seq). Retention is enforced on read; DynamoDB's TTL clears the rows later.
  EOT
  type = object({
    retention_seconds = optional(number, 600)
    max_messages      = optional(number, 1000)
  })
  default = {}

  validation {
    condition = (var.history.retention_seconds >= 0 && var.history.retention_seconds <= 604800 && floor(var.history.retention_seconds) == var.history.retention_seconds
    && var.history.max_messages >= 1 && var.history.max_messages <= 100000 && floor(var.history.max_messages) == var.history.max_messages)
    error_message = "history: retention_seconds is a whole number from 0 to 604800 (7 days); max_messages from 1 to 100000."
  }
}

variable "slot_settle_seconds" {
  description = "Setting slot_settle_seconds (WSKIT_SLOT_SETTLE_SECONDS): a connection younger than this never loses its per-user slot to a reclaim (its $connect may still be running). null = the handler's default, 30 s, longer than API Gateway's 29 s integration timeout."
  type        = number
  default     = null

  validation {
    condition     = var.slot_settle_seconds == null || (try(var.slot_settle_seconds >= 1 && var.slot_settle_seconds <= 900 && floor(var.slot_settle_seconds) == var.slot_settle_seconds, false))
    error_message = "slot_settle_seconds must be a whole number of seconds from 1 to 900, or null."
  }
}

variable "fanout" {
  description = <<-EOT
    Big topics (docs/big-topics.md). With the broadcaster enabled, the module creates a fan-out
    queue (and its dead-letter queue): a publish whose audience is larger than inline_limit is
    handed to it as shard jobs that the broadcaster runs in parallel, paced together at
    quota_percent of management_quota. Without the broadcaster every fan-out runs inline.
    null numbers = the handlers' defaults: inline_limit 2000 (WSKIT_INLINE_FANOUT_LIMIT),
    shard_rate 2000 deliveries/s per shard (WSKIT_FANOUT_SHARD_RATE), quota_percent 90
    (WSKIT_FANOUT_QUOTA_PERCENT). maximum_concurrency caps the shard jobs running at once (the
    queue's event source mapping; null = Lambda's scaling). A job that fails max_receive_count
    times goes to the dead-letter queue, which is alarmed.
  EOT
  type = object({
    enabled                   = optional(bool, true)
    inline_limit              = optional(number)
    shard_rate                = optional(number)
    quota_percent             = optional(number)
    maximum_concurrency       = optional(number)
    message_retention_seconds = optional(number, 3600)
    max_receive_count         = optional(number, 3)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.fanout.inline_limit == null || try(var.fanout.inline_limit >= 1 && var.fanout.inline_limit <= 1000000 && floor(var.fanout.inline_limit) == var.fanout.inline_limit, false)
    error_message = "fanout.inline_limit must be a whole number of recipients from 1 to 1000000, or null (2000)."
  }

  validation {
    condition     = var.fanout.shard_rate == null || try(var.fanout.shard_rate >= 100 && var.fanout.shard_rate <= 100000 && floor(var.fanout.shard_rate) == var.fanout.shard_rate, false)
    error_message = "fanout.shard_rate must be a whole number of deliveries per second from 100 to 100000, or null (2000)."
  }

  validation {
    condition     = var.fanout.quota_percent == null || try(var.fanout.quota_percent >= 1 && var.fanout.quota_percent <= 100 && floor(var.fanout.quota_percent) == var.fanout.quota_percent, false)
    error_message = "fanout.quota_percent must be a whole percentage from 1 to 100, or null (90)."
  }

  validation {
    condition     = var.fanout.maximum_concurrency == null || try(var.fanout.maximum_concurrency >= 2 && var.fanout.maximum_concurrency <= 1000 && floor(var.fanout.maximum_concurrency) == var.fanout.maximum_concurrency, false)
    error_message = "fanout.maximum_concurrency must be a whole number from 2 to 1000 (what an SQS event source mapping accepts), or null."
  }

  validation {
    condition     = try(var.fanout.message_retention_seconds >= 60 && var.fanout.message_retention_seconds <= 1209600 && floor(var.fanout.message_retention_seconds) == var.fanout.message_retention_seconds, false)
    error_message = "fanout.message_retention_seconds must be a whole number of seconds from 60 to 1209600 (SQS's range)."
  }

  validation {
    condition     = try(var.fanout.max_receive_count >= 1 && var.fanout.max_receive_count <= 1000 && floor(var.fanout.max_receive_count) == var.fanout.max_receive_count, false)
    error_message = "fanout.max_receive_count must be a whole number from 1 to 1000."
  }
}

variable "management_quota" {
  description = "The account's API Gateway @connections quota in this Region (WSKIT_MANAGEMENT_QUOTA, WSKIT_MANAGEMENT_BURST), shared by every API: rate per second and burst. Set what AWS granted after a quota increase; handed-off fan-outs plan their shards and pace from it. null = AWS's defaults, 10000 and 5000."
  type = object({
    rate  = optional(number)
    burst = optional(number)
  })
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for value in [var.management_quota.rate, var.management_quota.burst] : value == null || try(value >= 1 && value <= 10000000 && floor(value) == value, false)])
    error_message = "management_quota.rate and .burst must be whole numbers from 1 to 10000000, or null (10000 and 5000)."
  }
}

variable "jwks_cache" {
  description = "Settings jwks_cache_max_age_seconds and jwks_stale_grace_seconds (WSKIT_JWKS_CACHE_MAX_AGE_SECONDS, WSKIT_JWKS_STALE_GRACE_SECONDS): how long the authorizer serves its JWKS before refreshing it, and how long a stale set keeps serving while the JWKS cannot be fetched. null = the authorizer's defaults (see its README)."
  type = object({
    max_age_seconds     = optional(number)
    stale_grace_seconds = optional(number)
  })
  default = {}
}

variable "public_topic_prefixes" {
  description = "Setting public_topic_prefixes (WSKIT_PUBLIC_TOPIC_PREFIXES): topic prefixes anyone signed in may subscribe and publish to (e.g. [\"public:\"]). Each follows the topic grammar of protocol/protocol.json; a prefix that would cover users' own user:<sub> topics (user, user:, user:...) fails the plan."
  type        = list(string)
  default     = []
}

variable "application_routes" {
  description = <<-EOT
    Extra routes of the API, keyed by route key (the frames' "action", e.g. chat_message). Each is either
    an alias of a protocol action answered by the message router (action = "publish"; the router reads the
    aliases from the action_aliases setting, WSKIT_ACTION_ALIASES), or a team's own Lambda function
    (function_arn; the module grants API Gateway the invoke permission for that route). two_way sends the
    integration's response back to the client; null: true for aliases, false for functions. Route keys
    cannot be $connect, $disconnect, $default or a protocol action.
  EOT
  type = map(object({
    action       = optional(string)
    function_arn = optional(string)
    two_way      = optional(bool)
  }))
  default = {}

  validation {
    condition     = alltrue([for key in keys(var.application_routes) : can(regex("^[A-Za-z0-9_.-]{1,128}$", key))])
    error_message = "application_routes keys are action names of 1-128 letters, digits, '_', '.' and '-'; $connect, $disconnect and $default belong to the module."
  }

  validation {
    condition     = alltrue([for spec in values(var.application_routes) : (spec.action == null) != (spec.function_arn == null)])
    error_message = "Each application route sets exactly one of action (an alias of a protocol action) or function_arn (a team's own Lambda function)."
  }

  validation {
    condition     = alltrue([for spec in values(var.application_routes) : spec.function_arn == null || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_-]+)?$", coalesce(spec.function_arn, "-")))])
    error_message = "application_routes function_arn must be a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>[:alias])."
  }
}

variable "callback_url_override" {
  description = "Setting callback_url (WSKIT_CALLBACK_URL) for the functions that call the management API. Null (recommended): they build https://<apiId>.execute-api.<region>.<partition DNS suffix>/<stage> themselves."
  type        = string
  default     = null
}

################################################################################
# Authorizer
################################################################################

variable "jwks_uri" {
  description = "WSKIT_JWKS_URI: the identity provider's JWKS URL."
  type        = string

  validation {
    condition     = can(regex("^https://", var.jwks_uri))
    error_message = "jwks_uri must be an https:// URL."
  }
}

variable "jwt_issuer" {
  description = "WSKIT_JWT_ISSUER: the required iss claim."
  type        = string
}

variable "jwt_audience" {
  description = "WSKIT_JWT_AUDIENCE: accepted aud values (any one must match)."
  type        = list(string)

  validation {
    condition     = length(var.jwt_audience) > 0 && alltrue([for audience in var.jwt_audience : !strcontains(audience, ",")])
    error_message = "jwt_audience needs at least one value, and values cannot contain commas."
  }
}

variable "jwt_algorithms" {
  description = "Setting jwt_algorithms (WSKIT_JWT_ALGORITHMS): accepted signature algorithms, each one of protocol/protocol.json's jwtAlgorithms (RS, PS and ES 256-512); anything else fails the plan."
  type        = list(string)
  default     = ["RS256"]

  validation {
    condition     = length(var.jwt_algorithms) > 0
    error_message = "jwt_algorithms needs at least one algorithm."
  }
}

variable "jwt_clock_tolerance_seconds" {
  description = "Setting jwt_clock_tolerance_seconds (WSKIT_JWT_CLOCK_TOLERANCE_SECONDS): clock skew allowed on exp, nbf and iat."
  type        = number
  default     = 5

  validation {
    condition     = var.jwt_clock_tolerance_seconds >= 0 && var.jwt_clock_tolerance_seconds <= 300 && floor(var.jwt_clock_tolerance_seconds) == var.jwt_clock_tolerance_seconds
    error_message = "jwt_clock_tolerance_seconds must be a whole number of seconds from 0 to 300."
  }
}

variable "token_sources" {
  description = "WSKIT_TOKEN_SOURCES: ordered places the authorizer looks for the token, query:<name> or header:<name>."
  type        = list(string)
  default     = ["query:token"]

  validation {
    condition     = length(var.token_sources) > 0 && alltrue([for source in var.token_sources : can(regex("^(query|header):[A-Za-z0-9_-]+$", source))])
    error_message = "token_sources entries are query:<name> or header:<name>."
  }
}

variable "authorizer_identity_sources" {
  description = "Identity sources of the $connect authorizer. API Gateway answers 401 without invoking the authorizer when any of them is missing. Null: derived from token_sources: one source is required (query:token becomes route.request.querystring.token); with several, none is required, so a client sending any one of them reaches the authorizer, which refuses a request that carries no token."
  type        = list(string)
  default     = null
}

################################################################################
# API
################################################################################

variable "throttling_burst_limit" {
  description = "Stage burst limit (requests)."
  type        = number
  default     = 500
}

variable "throttling_rate_limit" {
  description = "Stage steady rate limit (requests per second)."
  type        = number
  default     = 1000
}

variable "api_detailed_metrics_enabled" {
  description = "Per-route API metrics."
  type        = bool
  default     = false
}

variable "api_logging_level" {
  description = "API Gateway execution logging: OFF, ERROR or INFO (data tracing is always off)."
  type        = string
  default     = "OFF"
}

variable "manage_api_gateway_account" {
  description = "Create the account-wide CloudWatch Logs role of API Gateway in this Region. Leave false: terraform/environments/bootstrap (or the account baseline) owns it once per account and Region, so destroying one service never breaks another's logging. The role must exist before the stage is created (its access logs need it)."
  type        = bool
  default     = false
}

variable "http_api" {
  description = <<-EOT
    The HTTP API (see the http-api module): the httpRoutes of the wiring manifests (a topic's history and
    publish for the client's polling fallback with a user's token, and under /iam for backends signing
    with IAM credentials), on a stage named stage_name. enabled = false leaves it out, and the functions
    that only answer HTTP routes with it. cors_allow_origins: origins of browser pages that call it
    (e.g. ["https://app.example.com"]); empty: no CORS. authorizer_result_ttl_seconds: how long API Gateway
    reuses the authorizer's decision for one Authorization header value (0: asks on every request). The
    stage throttling protects the account like the WebSocket stage's.
  EOT
  type = object({
    enabled                       = optional(bool, true)
    cors_allow_origins            = optional(list(string), [])
    cors_max_age_seconds          = optional(number, 3600)
    authorizer_result_ttl_seconds = optional(number, 0)
    throttling_burst_limit        = optional(number, 200)
    throttling_rate_limit         = optional(number, 100)
  })
  default = {}
}

################################################################################
# Table
################################################################################

variable "table_name" {
  description = "Name of the connections table. Null: <name>-connections."
  type        = string
  default     = null
}

variable "table_billing_mode" {
  description = "PAY_PER_REQUEST or PROVISIONED."
  type        = string
  default     = "PAY_PER_REQUEST"
}

variable "deletion_protection_enabled" {
  description = "Protect the table from deletion."
  type        = bool
  default     = true
}

variable "point_in_time_recovery_enabled" {
  description = "Point-in-time recovery of the table."
  type        = bool
  default     = true
}

variable "table_kms_key_arn" {
  description = "Customer managed KMS key of the table. Null: the AWS managed key."
  type        = string
  default     = null
}

################################################################################
# Broadcaster (off by default)
################################################################################

variable "broadcaster" {
  description = <<-EOT
    The broadcaster function and its event source mapping (see the broadcaster module).
    source_type "sqs" without event_source_arn creates a queue applications send {"topic","data"} to;
    source_type "dynamodb" reads an application table's stream (event_source_arn = its stream ARN).
    environment_variables adds the broadcaster's own settings (e.g. its record-to-topic mapping).
  EOT
  type = object({
    enabled                            = optional(bool, false)
    source_type                        = optional(string, "sqs")
    event_source_arn                   = optional(string)
    batch_size                         = optional(number, 10)
    maximum_batching_window_in_seconds = optional(number, 0)
    starting_position                  = optional(string, "LATEST")
    bisect_batch_on_function_error     = optional(bool, true)
    maximum_retry_attempts             = optional(number, 3)
    maximum_record_age_in_seconds      = optional(number, 3600)
    parallelization_factor             = optional(number, 1)
    maximum_concurrency                = optional(number)
    filter_patterns                    = optional(list(string), [])
    memory_size                        = optional(number, 512)
    timeout                            = optional(number, 60)
    environment_variables              = optional(map(string), {})
  })
  default = {}

}

################################################################################
# Custom domain
################################################################################

variable "domain_name" {
  description = "Custom domain for the API (e.g. ws.example.com). Null: clients use the execute-api URL."
  type        = string
  default     = null
}

variable "hosted_zone_id" {
  description = "Route 53 hosted zone of domain_name: the module writes the alias record (and the certificate validation record when it creates the certificate)."
  type        = string
  default     = null
}

variable "certificate_arn" {
  description = "Existing regional ACM certificate for domain_name. Null with domain_name set: the module requests one and validates it through hosted_zone_id."
  type        = string
  default     = null
}

################################################################################
# Monitoring
################################################################################

variable "create_alarms" {
  description = "Create the CloudWatch alarms."
  type        = bool
  default     = true
}

variable "create_dashboard" {
  description = "Create the CloudWatch dashboard."
  type        = bool
  default     = true
}

variable "alarm_sns_topic_arn" {
  description = "Existing SNS topic the alarms notify."
  type        = string
  default     = null
}

variable "create_alarm_topic" {
  description = "Create an SNS topic for the alarms (ignored when alarm_sns_topic_arn is set)."
  type        = bool
  default     = false
}

variable "alarm_email_addresses" {
  description = "Emails subscribed to the created alarm topic."
  type        = list(string)
  default     = []
}

variable "alarm_thresholds" {
  description = <<-EOT
    Alarm thresholds, each per alarm period (5 minutes) unless it says otherwise. The alarms page on faults,
    never on users being refused by design (see docs/operations.md):
    faults (0: any Faults of any function), jwks_unavailable (0), function_errors (Lambda Errors of every
    function but the authorizer, whose errors are its refusals; 1), function_throttles (1),
    dynamodb_throttles (0), dynamodb_system_errors (0), failed_deliveries (10 per sender),
    management_api_throttles (10 answers 429 per sender), fan_out_duration_p99_ms (10000),
    refusals (the spike alarm on authorizer + $connect refusals; 100), api_execution_errors (1),
    integration_latency_p99_ms (5000), iterator_age_ms (60000), http_api_server_errors (HTTP API 5xx; 1),
    http_api_latency_p99_ms (5000). Client health, from the clients' reports (each only with at least
    client_min_reports (20) reports in the period): client_reconnects_per_report (0.1),
    client_failed_connects_per_report (0.1), client_rtt_p95_ms (1000: the client_rtt_statistic, p50, of
    the clients' p95 round trip).
  EOT
  type = object({
    faults                     = optional(number, 0)
    jwks_unavailable           = optional(number, 0)
    function_errors            = optional(number, 1)
    function_throttles         = optional(number, 1)
    dynamodb_throttles         = optional(number, 0)
    dynamodb_system_errors     = optional(number, 0)
    failed_deliveries          = optional(number, 10)
    management_api_throttles   = optional(number, 10)
    fan_out_duration_p99_ms    = optional(number, 10000)
    refusals                   = optional(number, 100)
    api_execution_errors       = optional(number, 1)
    integration_latency_p99_ms = optional(number, 5000)
    iterator_age_ms            = optional(number, 60000)
    http_api_server_errors     = optional(number, 1)
    http_api_latency_p99_ms    = optional(number, 5000)

    client_reconnects_per_report      = optional(number, 0.1)
    client_failed_connects_per_report = optional(number, 0.1)
    client_rtt_p95_ms                 = optional(number, 1000)
    client_rtt_statistic              = optional(string, "p50")
    client_min_reports                = optional(number, 20)
  })
  default = {}
}

variable "tags" {
  description = "Tags applied to every taggable resource."
  type        = map(string)
  default     = {}
}
