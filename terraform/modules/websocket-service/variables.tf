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

variable "lambda_package_dir" {
  description = "Directory holding the zips ./build.sh writes: connect.zip, disconnect.zip, message.zip, authorizer.zip (and broadcaster.zip when the broadcaster is enabled)."
  type        = string
}

variable "lambda_packages" {
  description = "Per-function zip paths that override lambda_package_dir, keyed by connect, disconnect, message, authorizer or broadcaster."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for key in keys(var.lambda_packages) : contains(["connect", "disconnect", "message", "authorizer", "broadcaster"], key)])
    error_message = "lambda_packages keys are connect, disconnect, message, authorizer and broadcaster."
  }
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
  description = "Memory (MB) of the connect, disconnect, message and authorizer functions."
  type        = number
  default     = 256
}

variable "lambda_timeout" {
  description = "Timeout (seconds) of the connect, disconnect, message and authorizer functions; API Gateway waits 29 seconds at most."
  type        = number
  default     = 10

  validation {
    condition     = var.lambda_timeout >= 1 && var.lambda_timeout <= 29
    error_message = "lambda_timeout must be between 1 and 29 seconds (API Gateway's integration limit)."
  }
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency per function, keyed by connect, disconnect, message, authorizer or broadcaster. Absent: unreserved."
  type        = map(number)
  default     = {}
}

variable "tracing_mode" {
  description = "X-Ray tracing of the functions: Active or PassThrough."
  type        = string
  default     = "Active"
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
  description = "Extra IAM statements per function (lambda-function policy_statements format), keyed by connect, disconnect, message, authorizer or broadcaster."
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

variable "public_topic_prefixes" {
  description = "WSKIT_PUBLIC_TOPIC_PREFIXES: topic prefixes anyone signed in may subscribe and publish to (e.g. [\"public:\"])."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for prefix in var.public_topic_prefixes : can(regex("^[A-Za-z0-9_.:/-]{1,128}$", prefix))])
    error_message = "Each public topic prefix uses the topic alphabet: letters, digits and _ . : / -."
  }
}

variable "callback_url_override" {
  description = "WSKIT_CALLBACK_URL for the message and broadcaster functions. Null (recommended): they build https://<apiId>.execute-api.<region>.amazonaws.com/<stage> themselves."
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
  description = "WSKIT_JWT_ALGORITHMS: accepted signature algorithms (asymmetric only)."
  type        = list(string)
  default     = ["RS256"]

  validation {
    condition     = length(var.jwt_algorithms) > 0 && alltrue([for algorithm in var.jwt_algorithms : contains(["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"], algorithm)])
    error_message = "jwt_algorithms accepts RS*, PS*, ES* and EdDSA only: \"none\" and HS* are never allowed with a JWKS."
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
  description = "Identity sources of the $connect authorizer. API Gateway answers 401 without invoking the authorizer when any of them is missing. Null: derived from token_sources (query:token becomes route.request.querystring.token); set it explicitly when clients may use either of several token sources."
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
  description = "Create the account-wide CloudWatch Logs role of API Gateway in this Region (needed once per account and Region for access logs). Leave false when the account baseline sets it."
  type        = bool
  default     = false
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

  validation {
    condition     = !anytrue([for key in keys(var.broadcaster.environment_variables) : contains(["WSKIT_TABLE_NAME", "WSKIT_API_ID", "WSKIT_STAGE", "WSKIT_LOG_LEVEL", "WSKIT_CALLBACK_URL"], key)])
    error_message = "broadcaster.environment_variables cannot set WSKIT_TABLE_NAME, WSKIT_API_ID, WSKIT_STAGE, WSKIT_LOG_LEVEL or WSKIT_CALLBACK_URL: the module sets them."
  }
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
  description = "Alarm thresholds: API execution errors, integration errors, function errors and throttles per period, authorizer denials per period, stream iterator age (ms), failed fan-out deliveries per period and service."
  type = object({
    api_execution_errors   = optional(number, 1)
    api_integration_errors = optional(number, 5)
    function_errors        = optional(number, 1)
    function_throttles     = optional(number, 1)
    authorizer_denials     = optional(number, 50)
    iterator_age_ms        = optional(number, 60000)
    failed_deliveries      = optional(number, 10)
  })
  default = {}
}

variable "tags" {
  description = "Tags applied to every taggable resource."
  type        = map(string)
  default     = {}
}
