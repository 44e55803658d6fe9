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
  description = "Namespace of the custom metrics: the authorizer denial count and the fan-out metrics the message and broadcaster functions write (their WSKIT_METRICS_NAMESPACE). Null: wskit/<name>."
  type        = string
  default     = null

  validation {
    condition     = var.metric_namespace == null || (can(regex("^[A-Za-z0-9 ._/#:-]{1,255}$", var.metric_namespace)) && !startswith(coalesce(var.metric_namespace, "x"), "AWS/"))
    error_message = "metric_namespace must be 1-255 characters of letters, digits, spaces and . - _ / # :, and must not start with AWS/."
  }
}

variable "create_alarms" {
  description = "Create the alarms (and the topic). False keeps the dashboard and the denial metric only, e.g. in dev."
  type        = bool
  default     = true
}

variable "api" {
  description = "The WebSocket API stage to watch (ExecutionError, IntegrationError). Null: no API alarms."
  type = object({
    id                          = string
    stage                       = string
    execution_error_threshold   = optional(number, 1)
    integration_error_threshold = optional(number, 5)
    integration_latency_p99_ms  = optional(number, 5000)
  })
  default = null
}

variable "function_names" {
  description = "Functions whose Errors and Throttles are alarmed, keyed by a short static name (connect, message, ...)."
  type        = map(string)
  default     = {}
}

variable "function_error_threshold" {
  description = "Errors per period of one function that raise its alarm."
  type        = number
  default     = 1
}

variable "function_throttle_threshold" {
  description = "Throttles per period of one function that raise its alarm."
  type        = number
  default     = 1
}

variable "authorizer_denials" {
  description = <<-EOT
    Denial-spike alarm from the authorizer's log group. A metric filter counts the authorizer's
    structured denial line ({"level":"WARN","message":"authorization denied",...}); the alarm fires
    when more than threshold denials happen in one period. Null: no denial alarm.
  EOT
  type = object({
    log_group_name = string
    filter_pattern = optional(string, "{ $.message = \"authorization denied\" }")
    threshold      = optional(number, 50)
  })
  default = null
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
  description = "Services (the Service dimension of the fan-out EMF metrics, e.g. wskit-message, wskit-broadcaster) whose failed deliveries per period are alarmed and charted. Failed means neither delivered nor gone after retries."
  type = object({
    services                  = list(string)
    failed_delivery_threshold = optional(number, 10)
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
