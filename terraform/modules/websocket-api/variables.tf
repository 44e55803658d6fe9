variable "create" {
  description = "Whether to create the API and everything that belongs to it."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the WebSocket API; also prefixes the access log group."
  type        = string

  validation {
    condition     = length(var.name) >= 1 && length(var.name) <= 128
    error_message = "name must be 1-128 characters."
  }
}

variable "description" {
  description = "Description of the API."
  type        = string
  default     = "wskit WebSocket API"
}

variable "route_selection_expression" {
  description = "How API Gateway picks a route from a message frame."
  type        = string
  default     = "$request.body.action"
}

variable "stage_name" {
  description = "Name of the stage; part of the wss:// URL and of the callback URL."
  type        = string
  default     = "live"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.stage_name))
    error_message = "stage_name must be 1-128 characters of letters, digits, '-' and '_'."
  }
}

variable "integrations" {
  description = <<-EOT
    Lambda proxy integrations keyed by a short static name (for example "connect", "message").
    function_name gets the invoke permission for the routes that use the integration.
  EOT
  type = map(object({
    function_name        = string
    invoke_arn           = string
    timeout_milliseconds = optional(number, 29000)
  }))

  validation {
    condition     = alltrue([for integration in values(var.integrations) : integration.timeout_milliseconds >= 50 && integration.timeout_milliseconds <= 29000])
    error_message = "timeout_milliseconds must be between 50 and 29000."
  }
}

variable "routes" {
  description = <<-EOT
    Routes keyed by route key ("$connect", "$disconnect", "$default", or an action name such as "subscribe").
    integration names an entry of var.integrations; two_way = true sends the integration's response body
    back to the client as one frame (a route response "$default").
  EOT
  type = map(object({
    integration = string
    two_way     = optional(bool, false)
  }))

  validation {
    condition     = alltrue([for key in keys(var.routes) : can(regex("^(\\$connect|\\$disconnect|\\$default|[A-Za-z0-9_.-]{1,128})$", key))])
    error_message = "Route keys are $connect, $disconnect, $default or an action name of letters, digits, '_', '.' and '-'."
  }

  validation {
    condition     = !anytrue([for key in ["$connect", "$disconnect"] : try(var.routes[key].two_way, false)])
    error_message = "$connect and $disconnect cannot be two-way routes: API Gateway sends nothing back on them."
  }
}

variable "authorizer" {
  description = <<-EOT
    Lambda REQUEST authorizer attached to the $connect route only (WebSocket APIs authorize once per
    connection). identity_sources lists the request parameters that must all be present, otherwise
    API Gateway answers 401 without invoking the authorizer; an empty list requires none (the
    authorizer runs for every $connect and decides itself). Null: $connect is not authorized.
  EOT
  type = object({
    name             = optional(string, "jwt")
    function_name    = string
    invoke_arn       = string
    identity_sources = optional(list(string), ["route.request.querystring.token"])
  })
  default = null

  validation {
    condition = var.authorizer == null || alltrue([
      for source in try(var.authorizer.identity_sources, []) :
      can(regex("^(route\\.request\\.(querystring|header)\\.[A-Za-z0-9_.-]+|stageVariables\\.[A-Za-z0-9_]+|context\\.[A-Za-z0-9_.]+)$", source))
    ])
    error_message = "identity_sources entries look like route.request.querystring.<name> or route.request.header.<name>."
  }
}

variable "throttling_burst_limit" {
  description = "Default route burst limit (requests) of the stage."
  type        = number
  default     = 500

  validation {
    condition     = var.throttling_burst_limit >= 0
    error_message = "throttling_burst_limit must be zero or more."
  }
}

variable "throttling_rate_limit" {
  description = "Default route steady-state rate limit (requests per second) of the stage."
  type        = number
  default     = 1000

  validation {
    condition     = var.throttling_rate_limit >= 0
    error_message = "throttling_rate_limit must be zero or more."
  }
}

variable "detailed_metrics_enabled" {
  description = "Per-route CloudWatch metrics (billed as custom metrics)."
  type        = bool
  default     = false
}

variable "logging_level" {
  description = "Execution logging level of the stage: OFF, ERROR or INFO. Data tracing (full request and response bodies) is always off."
  type        = string
  default     = "OFF"

  validation {
    condition     = contains(["OFF", "ERROR", "INFO"], var.logging_level)
    error_message = "logging_level must be OFF, ERROR or INFO."
  }
}

variable "access_log_retention_in_days" {
  description = "Retention of the stage's access log group, in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.access_log_retention_in_days)
    error_message = "access_log_retention_in_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  }
}

variable "access_log_kms_key_arn" {
  description = "KMS key ARN that encrypts the access log group."
  type        = string
  default     = null
}

variable "create_account_cloudwatch_role" {
  description = <<-EOT
    Create the account-wide role API Gateway uses to write logs and register it in the API Gateway
    account settings of this Region. API Gateway needs it for WebSocket access logs. Leave false when
    the account baseline already sets it; only one configuration per account and Region should own it.
  EOT
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags applied to every taggable resource of the module."
  type        = map(string)
  default     = {}
}
