variable "create" {
  description = "Whether to create the event source mapping and its queues."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name prefix of the queues the module creates (<name>-source, <name>-failures)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,60}$", var.name))
    error_message = "name must be 1-60 characters of letters, digits, '-' and '_'."
  }
}

variable "function_name" {
  description = "Name (or ARN) of the broadcaster Lambda function the mapping invokes."
  type        = string
}

variable "function_role_name" {
  description = "Name of the function's execution role. When set, the module attaches the statements the mapping needs (read the source, send to the failure queue). Null: attach output.policy_json yourself."
  type        = string
  default     = null
}

variable "source_type" {
  description = "Where records come from: \"dynamodb\" (a table's stream) or \"sqs\" (a queue whose messages are {\"topic\": ..., \"data\": ...})."
  type        = string
  default     = "dynamodb"

  validation {
    condition     = contains(["dynamodb", "sqs"], var.source_type)
    error_message = "source_type must be dynamodb or sqs."
  }
}

variable "event_source_arn" {
  description = "ARN of the DynamoDB stream or the SQS queue. Null with source_type = \"sqs\" creates the source queue (with a redrive policy to the failure queue)."
  type        = string
  default     = null

  validation {
    condition     = var.event_source_arn == null || can(regex("^arn:aws[a-z-]*:(dynamodb:.+:table/.+/stream/.+|sqs:.+)$", var.event_source_arn))
    error_message = "event_source_arn must be a DynamoDB stream ARN (arn:aws:dynamodb:...:table/<name>/stream/<label>) or an SQS queue ARN."
  }
}

variable "enabled" {
  description = "Whether the mapping polls the source. False pauses delivery without losing records (until they expire)."
  type        = bool
  default     = true
}

variable "batch_size" {
  description = "Maximum records per invocation (stream: 1-10000; SQS: 1-10, or up to 10000 with a batching window)."
  type        = number
  default     = 100

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000
    error_message = "batch_size must be between 1 and 10000."
  }
}

variable "maximum_batching_window_in_seconds" {
  description = "How long Lambda gathers records before invoking (0-300). 0 favours latency, which is what live updates want."
  type        = number
  default     = 0

  validation {
    condition     = var.maximum_batching_window_in_seconds >= 0 && var.maximum_batching_window_in_seconds <= 300
    error_message = "maximum_batching_window_in_seconds must be between 0 and 300."
  }
}

variable "starting_position" {
  description = "Stream only: LATEST or TRIM_HORIZON."
  type        = string
  default     = "LATEST"

  validation {
    condition     = contains(["LATEST", "TRIM_HORIZON"], var.starting_position)
    error_message = "starting_position must be LATEST or TRIM_HORIZON."
  }
}

variable "bisect_batch_on_function_error" {
  description = "Stream only: split a failing batch in two and retry each half, isolating a poisoned record."
  type        = bool
  default     = true
}

variable "maximum_retry_attempts" {
  description = "Stream only: retries of a failing batch before its records go to the failure queue (-1 retries until the records expire after 24 h)."
  type        = number
  default     = 3

  validation {
    condition     = var.maximum_retry_attempts >= -1 && var.maximum_retry_attempts <= 10000
    error_message = "maximum_retry_attempts must be between -1 and 10000."
  }
}

variable "maximum_record_age_in_seconds" {
  description = "Stream only: records older than this are not delivered but go to the failure queue (60-604800, or -1 for no limit). A live update that is an hour old is noise."
  type        = number
  default     = 3600

  validation {
    condition     = var.maximum_record_age_in_seconds == -1 || (var.maximum_record_age_in_seconds >= 60 && var.maximum_record_age_in_seconds <= 604800)
    error_message = "maximum_record_age_in_seconds must be -1 or between 60 and 604800."
  }
}

variable "parallelization_factor" {
  description = "Stream only: concurrent batches per shard (1-10)."
  type        = number
  default     = 1

  validation {
    condition     = var.parallelization_factor >= 1 && var.parallelization_factor <= 10
    error_message = "parallelization_factor must be between 1 and 10."
  }
}

variable "maximum_concurrency" {
  description = "SQS only: most concurrent invocations the mapping starts (2-1000). Null: no mapping-level limit."
  type        = number
  default     = null

  validation {
    condition     = var.maximum_concurrency == null || (coalesce(var.maximum_concurrency, 2) >= 2 && coalesce(var.maximum_concurrency, 2) <= 1000)
    error_message = "maximum_concurrency must be between 2 and 1000."
  }
}

variable "filter_patterns" {
  description = "Event filtering patterns (JSON strings, at most 5); records that match none are dropped before invoking. Example: jsonencode({ eventName = [\"INSERT\", \"MODIFY\"] })."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.filter_patterns) <= 5 && alltrue([for pattern in var.filter_patterns : can(jsondecode(pattern))])
    error_message = "filter_patterns takes at most 5 patterns, each a JSON document."
  }
}

variable "create_failure_queue" {
  description = "Create an SQS queue that keeps what could not be delivered: the stream mapping's on-failure destination, or the dead-letter queue of a source queue the module creates."
  type        = bool
  default     = true
}

variable "failure_queue_arn" {
  description = "Existing SQS queue for failed records, used when create_failure_queue is false."
  type        = string
  default     = null

  validation {
    condition     = var.failure_queue_arn == null || can(regex("^arn:aws[a-z-]*:sqs:", var.failure_queue_arn))
    error_message = "failure_queue_arn must be an SQS queue ARN."
  }
}

variable "failure_queue_message_retention_seconds" {
  description = "How long the failure queue keeps a message (60-1209600)."
  type        = number
  default     = 1209600
}

variable "source_queue_visibility_timeout_seconds" {
  description = "Visibility timeout of a created source queue; AWS recommends at least six times the function timeout."
  type        = number
  default     = 360
}

variable "source_queue_max_receive_count" {
  description = "Receives of a message from a created source queue before it moves to the failure queue."
  type        = number
  default     = 5

  validation {
    condition     = var.source_queue_max_receive_count >= 1 && var.source_queue_max_receive_count <= 1000
    error_message = "source_queue_max_receive_count must be between 1 and 1000."
  }
}

variable "queue_kms_key_arn" {
  description = "Customer managed KMS key for the queues the module creates (and for reading an encrypted source queue). Null uses SQS managed encryption."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags applied to every taggable resource of the module."
  type        = map(string)
  default     = {}
}
