variable "create" {
  description = "Whether to create the alarms, the topic and the dashboard."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name prefix of the alarms, the metric namespace, the SNS topic and the dashboard (usually the service name, e.g. wskit-prod)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,200}$", var.name))
    error_message = "name must be 1-200 characters of letters, digits, '-' and '_'."
  }
}

variable "metric_namespace" {
  description = "Namespace of the functions' EMF metrics (their WSKIT_METRICS_NAMESPACE): Faults, the authorizer's and $connect's refusals, the fan-out metrics. Null: wskit/<name>."
  type        = string
  default     = null

  validation {
    condition     = var.metric_namespace == null || (can(regex("^[A-Za-z0-9 ._/#:-]{1,255}$", var.metric_namespace)) && !startswith(coalesce(var.metric_namespace, "x"), "AWS/"))
    error_message = "metric_namespace must be 1-255 characters of letters, digits, spaces and . - _ / # :, and must not start with AWS/."
  }
}

variable "create_alarms" {
  description = "Create the alarms (and the topic). False keeps the dashboard only, e.g. in dev."
  type        = bool
  default     = true
}

variable "api" {
  description = "The WebSocket API stage to watch: ExecutionError (API Gateway's own failures) and p99 IntegrationLatency are alarmed. IntegrationError is charted, not alarmed: $connect refusals by design (401, 429) count there. Null: no API alarms."
  type = object({
    id                         = string
    stage                      = string
    execution_error_threshold  = optional(number, 1)
    integration_latency_p99_ms = optional(number, 5000)
  })
  default = null
}

variable "function_names" {
  description = "Functions to watch, keyed by a short static name (connect, message, ...). Each gets a Throttles alarm, an Errors alarm (unless listed in error_alarm_excluded_functions) and a Faults alarm on its EMF metric (Service = <service_dimension_prefix><key>)."
  type        = map(string)
  default     = {}
}

variable "service_dimension_prefix" {
  description = "The functions write their EMF metrics with Service = <prefix><key> (the wskit handlers: wskit-<function>)."
  type        = string
  default     = "wskit-"
}

variable "error_alarm_excluded_functions" {
  description = "Keys of function_names whose Lambda Errors are not faults and get no Errors alarm: the wskit authorizer throws Unauthorized for every refused token (the only way to answer 401), so its Errors count refusals. Their Faults are still alarmed."
  type        = list(string)
  default     = []
}

variable "function_error_threshold" {
  description = "Lambda Errors per period of one function that raise its alarm."
  type        = number
  default     = 1
}

variable "function_throttle_threshold" {
  description = "Throttles per period of one function that raise its alarm."
  type        = number
  default     = 1
}

variable "fault_threshold" {
  description = "Faults per period of one function above which its alarm fires (0: any fault)."
  type        = number
  default     = 0
}

variable "authorizer" {
  description = "The authorizer's EMF metrics (Allowed, Refused, JwksUnavailable under Service = service). JwksUnavailable above jwks_unavailable_threshold per period (default 0: any) is a fault: valid users are refused because the keys could not be fetched. Null: no JWKS alarm."
  type = object({
    service                    = string
    jwks_unavailable_threshold = optional(number, 0)
  })
  default = null
}

variable "refusals" {
  description = "Refusals by design: the Refused EMF metric of each service (the authorizer's refused tokens, $connect's 401/429) is charted, and their sum above threshold per period raises a spike alarm. rate_limited_services add their RateLimited metric (frames and HTTP requests answered RATE_LIMITED) to the chart. Null: neither."
  type = object({
    services              = list(string)
    threshold             = optional(number, 100)
    rate_limited_services = optional(list(string), [])
  })
  default = null

  validation {
    condition     = var.refusals == null || (length(try(var.refusals.services, [])) >= 1 && length(try(var.refusals.services, [])) <= 9)
    error_message = "refusals.services needs 1 to 9 services (one metric math alarm holds at most 10 metrics)."
  }
}

variable "http_api" {
  description = "The HTTP API stage to watch (AWS/ApiGateway 4xx, 5xx, Count, Latency with ApiId and Stage): 5xx at or above server_error_threshold per period (API Gateway or the function failed: a fault, a missing permission, a throttled function) and p99 Latency above latency_p99_ms raise alarms. 4xx are charted, not alarmed: 401/403/404/413/429 answer callers by design. Null: no HTTP API alarms or widgets."
  type = object({
    id                     = string
    stage                  = string
    server_error_threshold = optional(number, 1)
    latency_p99_ms         = optional(number, 5000)
  })
  default = null
}

variable "client_health" {
  description = <<-EOT
    What clients report (the client SDK's metrics reporter, the report action): the message router's
    ClientReports, ClientReconnects, ClientFailedConnects, ClientRttP95 ... EMF metrics, read with the
    [Service] dimension set (Service = service: every client version together). Per period, alarms fire on
    reconnects per report above reconnects_per_report, failed connects per report above
    failed_connects_per_report, and the rtt_statistic (default p50: the median reporting client) of the
    clients' p95 round trip above rtt_p95_ms; each only once at least min_reports reports arrived in the
    period, so a handful of clients on bad networks cannot page anyone. A dashboard row charts them with
    the quality shares and gaps. Null: neither.
  EOT
  type = object({
    service                    = string
    reconnects_per_report      = optional(number, 0.1)
    failed_connects_per_report = optional(number, 0.1)
    rtt_p95_ms                 = optional(number, 1000)
    rtt_statistic              = optional(string, "p50")
    min_reports                = optional(number, 20)
  })
  default = null

  validation {
    condition     = var.client_health == null || can(regex("^p(\\d{1,2}(\\.\\d{1,2})?|100)$", try(var.client_health.rtt_statistic, "")))
    error_message = "client_health.rtt_statistic is a percentile statistic such as p50, p90 or p99.9."
  }

  validation {
    condition     = var.client_health == null || try(var.client_health.min_reports >= 1 && var.client_health.reconnects_per_report >= 0 && var.client_health.failed_connects_per_report >= 0 && var.client_health.rtt_p95_ms > 0, false)
    error_message = "client_health: min_reports is at least 1; the per-report thresholds are 0 or more; rtt_p95_ms is above 0."
  }
}

variable "connections" {
  description = "Connection trend on the dashboard: the connect function's Connected EMF metric (Service = connect_service) per minute and per 2-hour bucket (an upper bound of the open connections: API Gateway closes every connection after 2 hours), beside the $disconnect function's invocations. Null: not charted."
  type = object({
    connect_service     = string
    disconnect_function = optional(string)
  })
  default = null
}

variable "table" {
  description = "The DynamoDB table the functions use: consumed capacity, throttles and TTL deletions are charted; ThrottledRequests and SystemErrors, summed over the operations the functions call, are alarmed above their thresholds per period (default 0: any). Null: none."
  type = object({
    name                   = string
    operations             = list(string)
    throttle_threshold     = optional(number, 0)
    system_error_threshold = optional(number, 0)
  })
  default = null

  validation {
    condition     = var.table == null || length(try(var.table.operations, [])) <= 9
    error_message = "table.operations holds at most 9 operations (one metric math alarm holds at most 10 metrics)."
  }
}

variable "stream" {
  description = "Stream-driven function whose IteratorAge (how far behind the stream it runs) is alarmed. Null: no iterator-age alarm."
  type = object({
    function_name = string
    threshold_ms  = optional(number, 60000)
  })
  default = null
}

variable "fan_out" {
  description = "Senders (the Service dimension of the fan-out EMF metrics, e.g. wskit-message, wskit-broadcaster). Per sender: failed deliveries (neither delivered nor gone after retries) at or above failed_delivery_threshold, management API throttling (Throttled: answers 429) above throttled_threshold, and p99 FanOutDuration above duration_p99_ms, each per period, raise alarms; deliveries, Gone, retries and durations are charted."
  type = object({
    services                  = list(string)
    failed_delivery_threshold = optional(number, 10)
    throttled_threshold       = optional(number, 10)
    duration_p99_ms           = optional(number, 10000)
  })
  default = null
}

variable "failure_queues" {
  description = "SQS queues that hold failed records, keyed by a short static name; any visible message raises an alarm."
  type        = map(string)
  default     = {}
}

variable "period_seconds" {
  description = "Alarm period in seconds."
  type        = number
  default     = 300

  validation {
    condition     = contains([60, 300, 900, 3600], var.period_seconds)
    error_message = "period_seconds must be 60, 300, 900 or 3600."
  }
}

variable "evaluation_periods" {
  description = "Consecutive breaching periods before an alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.evaluation_periods >= 1
    error_message = "evaluation_periods must be at least 1."
  }
}

variable "create_sns_topic" {
  description = "Create an SNS topic for the alarms."
  type        = bool
  default     = false
}

variable "sns_topic_arn" {
  description = "Existing SNS topic the alarms notify (used when create_sns_topic is false). Null with create_sns_topic = false: alarms change state without notifying."
  type        = string
  default     = null
}

variable "sns_kms_master_key_id" {
  description = "Customer managed KMS key of the created topic. The AWS managed key alias/aws/sns cannot be used: CloudWatch alarms cannot publish to a topic encrypted with it."
  type        = string
  default     = null

  validation {
    condition     = var.sns_kms_master_key_id != "alias/aws/sns"
    error_message = "CloudWatch alarms cannot publish to a topic encrypted with alias/aws/sns; use a customer managed key whose policy allows cloudwatch.amazonaws.com."
  }
}

variable "alarm_email_addresses" {
  description = "Email addresses subscribed to the created topic (each must confirm the subscription)."
  type        = list(string)
  default     = []
}

variable "create_dashboard" {
  description = "Create a CloudWatch dashboard with the API, function, authorizer and broadcaster metrics."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags applied to every taggable resource of the module."
  type        = map(string)
  default     = {}
}
