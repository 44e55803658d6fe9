variable "create" {
  description = "Whether to create the function and everything that belongs to it."
  type        = bool
  default     = true
}

variable "function_name" {
  description = "Name of the Lambda function; also names its role and log group."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name must be 1-64 characters of letters, digits, '-' and '_'."
  }
}

variable "description" {
  description = "Description of the function."
  type        = string
  default     = null
}

variable "package_path" {
  description = "Path to a local deployment zip (for example dist/lambda/connect.zip from ./build.sh). Its SHA-256 is tracked, so a rebuilt zip redeploys the code. Null: the code comes from s3_bucket and s3_key."
  type        = string
  default     = null

  validation {
    condition     = var.package_path == null || endswith(coalesce(var.package_path, ".zip"), ".zip")
    error_message = "package_path must point to a .zip file built by ./build.sh."
  }
}

variable "s3_bucket" {
  description = "S3 bucket holding the deployment zip (a pipeline uploads dist/lambda/<name>.zip there), used instead of package_path. Must be in the function's Region."
  type        = string
  default     = null
}

variable "s3_key" {
  description = "S3 key of the deployment zip in s3_bucket."
  type        = string
  default     = null
}

variable "s3_object_version" {
  description = "Version id of the S3 object (versioned bucket). A new version redeploys the code; the same version never changes the plan. Null: the code is deployed once and changes only when the key changes (or source_code_hash does)."
  type        = string
  default     = null
}

variable "source_code_hash" {
  description = "Base64 SHA-256 of an S3 deployment zip (openssl dgst -sha256 -binary f.zip | base64). Optional: when set, a changed hash redeploys. Ignored with package_path, whose hash is computed from the file."
  type        = string
  default     = null
}

variable "handler" {
  description = "Function entry point."
  type        = string
  default     = "index.handler"
}

variable "runtime" {
  description = "Lambda runtime identifier."
  type        = string
  default     = "nodejs22.x"
}

variable "architecture" {
  description = "Instruction set architecture: arm64 (default, cheaper per GB-second) or x86_64."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "Memory in MB (also scales CPU)."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240 MB."
  }
}

variable "timeout" {
  description = "Timeout in seconds. API Gateway stops waiting for an integration after 29 seconds."
  type        = number
  default     = 10

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "timeout must be between 1 and 900 seconds."
  }
}

variable "environment_variables" {
  description = "Environment variables of the function (the WSKIT_* variables each function reads are listed in the Configuration section of the repository README)."
  type        = map(string)
  default     = {}
}

variable "kms_key_arn" {
  description = "Customer managed KMS key that encrypts the environment variables. Null uses the Lambda service key."
  type        = string
  default     = null
}

variable "policy_statements" {
  description = <<-EOT
    Least-privilege IAM statements of the function's role, keyed by statement id (letters and digits).
    Each statement: actions (never "*"), resources, optional effect (Allow) and optional conditions
    ({ test, variable, values }). Logging (and X-Ray when tracing is Active) is added by the module.
  EOT
  type = map(object({
    effect    = optional(string, "Allow")
    actions   = list(string)
    resources = list(string)
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  }))
  default = {}

  validation {
    condition     = alltrue([for sid in keys(var.policy_statements) : can(regex("^[A-Za-z0-9]+$", sid))])
    error_message = "policy_statements keys are statement ids: letters and digits only."
  }

  validation {
    condition = alltrue(flatten([
      for statement in values(var.policy_statements) : [
        for action in statement.actions : action != "*" && !endswith(action, ":*")
      ]
    ]))
    error_message = "policy_statements must name each action: \"*\" and \"service:*\" are not allowed."
  }

  validation {
    condition     = alltrue([for statement in values(var.policy_statements) : length(statement.actions) > 0 && length(statement.resources) > 0])
    error_message = "Every policy statement needs at least one action and one resource."
  }
}

variable "log_retention_in_days" {
  description = "Retention of the function's log group, in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key ARN that encrypts the log group. The key policy must allow the CloudWatch Logs service principal."
  type        = string
  default     = null
}

variable "log_format" {
  description = "Lambda log format: JSON (platform and application logs as JSON objects) or Text. Null keeps the service default."
  type        = string
  default     = null

  validation {
    condition     = var.log_format == null || contains(["JSON", "Text"], coalesce(var.log_format, "JSON"))
    error_message = "log_format must be JSON, Text or null."
  }
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency; -1 (default) means unreserved, 0 stops all invocations."
  type        = number
  default     = -1

  validation {
    condition     = var.reserved_concurrent_executions >= -1
    error_message = "reserved_concurrent_executions must be -1 (unreserved) or more."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing mode: Active or PassThrough."
  type        = string
  default     = "Active"

  validation {
    condition     = contains(["Active", "PassThrough"], var.tracing_mode)
    error_message = "tracing_mode must be Active or PassThrough."
  }
}

variable "failure_destination_arn" {
  description = "SQS queue or SNS topic ARN that receives asynchronous invocations that failed every retry. Synchronous callers (API Gateway) and event source mappings handle failures themselves."
  type        = string
  default     = null

  validation {
    condition     = var.failure_destination_arn == null || can(regex("^arn:aws[a-z-]*:(sqs|sns):", var.failure_destination_arn))
    error_message = "failure_destination_arn must be an SQS queue ARN or an SNS topic ARN."
  }
}

variable "maximum_retry_attempts" {
  description = "Retries of a failed asynchronous invocation (0-2) when failure_destination_arn is set."
  type        = number
  default     = 2

  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 2
    error_message = "maximum_retry_attempts must be 0, 1 or 2."
  }
}

variable "role_permissions_boundary" {
  description = "ARN of a permissions boundary for the function's role."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags applied to every taggable resource of the module."
  type        = map(string)
  default     = {}
}
