variable "create" {
  description = "Whether to create the API and everything that belongs to it."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the HTTP API; also names the access log group."
  type        = string

  validation {
    condition     = length(var.name) >= 1 && length(var.name) <= 128
    error_message = "name must be 1-128 characters."
  }
}

variable "description" {
  description = "Description of the API."
  type        = string
  default     = "wskit HTTP API"
}

variable "stage_name" {
  description = "Name of the stage: the first path segment of every URL (https://<apiId>.execute-api.<region>.amazonaws.com/<stage>/...)."
  type        = string
  default     = "live"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.stage_name))
    error_message = "stage_name must be 1-128 characters of letters, digits, '-' and '_' ($default is not supported: the URLs carry the stage)."
  }
}

variable "integrations" {
  description = <<-EOT
    Lambda proxy integrations (payload format 2.0) keyed by a short static name (for example "http").
    function_name gets the invoke permission for the routes that use the integration, each scoped to
    its route. timeout_milliseconds: at most 30000 (the HTTP API limit).
  EOT
  type = map(object({
    function_name        = string
    invoke_arn           = string
    timeout_milliseconds = optional(number, 29000)
  }))
  default = {}

  validation {
    condition     = alltrue([for integration in values(var.integrations) : integration.timeout_milliseconds >= 50 && integration.timeout_milliseconds <= 30000])
    error_message = "timeout_milliseconds must be between 50 and 30000."
  }
}

variable "routes" {
  description = <<-EOT
    Routes keyed by route key ("<METHOD> <path>", e.g. "GET /topics/{topic}/messages"). integration names
    an entry of var.integrations. authorization is "token" (the Lambda REQUEST authorizer of var.authorizer,
    from the Authorization header) or "iam" (AWS_IAM: the caller signs with SigV4 and needs
    execute-api:Invoke on the route). There is no unauthorized route.
  EOT
  type = map(object({
    integration   = string
    authorization = string
  }))
  default = {}

  validation {
    condition     = alltrue([for key in keys(var.routes) : can(regex("^(GET|POST|PUT|PATCH|DELETE|HEAD) (/[A-Za-z0-9._~-]+|/\\{[A-Za-z0-9_]+\\})+$", key))])
    error_message = "Route keys are \"<METHOD> <path>\": GET, POST, PUT, PATCH, DELETE or HEAD, then a path of literal segments and {parameter} segments, e.g. \"GET /topics/{topic}/messages\"."
  }

  validation {
    condition     = alltrue([for route in values(var.routes) : contains(["token", "iam"], route.authorization)])
    error_message = "Each route's authorization is \"token\" (the Lambda authorizer) or \"iam\" (AWS_IAM)."
  }
}

variable "authorizer" {
  description = <<-EOT
    The Lambda REQUEST authorizer of the "token" routes: payload format 2.0 with simple responses
    ({"isAuthorized": true|false, "context": {...}}; false is API Gateway's 403). identity_sources must
    all be present or API Gateway answers 401 without invoking it. result_ttl_seconds caches a decision
    per identity source value (the whole Authorization header) for every route of the API; 0 (default)
    asks the authorizer on every request (see the module README). Null: no token routes allowed.
  EOT
  type = object({
    name               = optional(string, "jwt")
    function_name      = string
    invoke_arn         = string
    identity_sources   = optional(list(string), ["$request.header.Authorization"])
    result_ttl_seconds = optional(number, 0)
  })
  default = null

  validation {
    condition     = var.authorizer == null || alltrue([for source in try(var.authorizer.identity_sources, []) : can(regex("^\\$(request\\.(header|querystring)\\.[A-Za-z0-9_.-]+|context\\.[A-Za-z0-9_.]+|stageVariables\\.[A-Za-z0-9_]+)$", source))])
    error_message = "identity_sources entries look like $request.header.<name> or $request.querystring.<name>."
  }

  validation {
    condition     = var.authorizer == null || try(var.authorizer.result_ttl_seconds >= 0 && var.authorizer.result_ttl_seconds <= 3600 && floor(var.authorizer.result_ttl_seconds) == var.authorizer.result_ttl_seconds, false)
    error_message = "authorizer.result_ttl_seconds is a whole number of seconds from 0 (no caching) to 3600."
  }

  validation {
    condition     = var.authorizer == null || try(var.authorizer.result_ttl_seconds == 0 || length(var.authorizer.identity_sources) > 0, false)
    error_message = "Caching the authorizer's decisions (result_ttl_seconds > 0) needs at least one identity source: they are the cache key."
  }
}

variable "cors" {
  description = <<-EOT
    CORS for browsers calling the API from other origins. allow_origins empty (default): no CORS
    configuration, so browsers only call it from pages of the API's own origin. With origins, API Gateway
    answers preflight (OPTIONS) requests itself and adds the CORS headers to every response. The defaults
    allow what the wskit client sends (Authorization, Content-Type, traceparent) and let it read
    Retry-After. Credentials (cookies) are never needed: the token travels in the Authorization header.
  EOT
  type = object({
    allow_origins     = optional(list(string), [])
    allow_methods     = optional(list(string), ["GET", "POST"])
    allow_headers     = optional(list(string), ["authorization", "content-type", "traceparent"])
    expose_headers    = optional(list(string), ["retry-after"])
    max_age_seconds   = optional(number, 3600)
    allow_credentials = optional(bool, false)
  })
  default = {}

  validation {
    condition     = alltrue([for origin in var.cors.allow_origins : origin == "*" || can(regex("^https?://[^/\\s]+$", origin))])
    error_message = "cors.allow_origins entries are origins (scheme://host[:port], no path or trailing slash, e.g. https://app.example.com) or \"*\"."
  }

  validation {
    condition     = !(var.cors.allow_credentials && contains(var.cors.allow_origins, "*"))
    error_message = "cors.allow_credentials cannot be combined with the origin \"*\": browsers refuse that answer."
  }

  validation {
    condition     = var.cors.max_age_seconds >= 0 && var.cors.max_age_seconds <= 86400
    error_message = "cors.max_age_seconds is from 0 to 86400."
  }
}

variable "throttling_burst_limit" {
  description = "Default route burst limit (requests) of the stage."
  type        = number
  default     = 200

  validation {
    condition     = var.throttling_burst_limit >= 0
    error_message = "throttling_burst_limit must be zero or more."
  }
}

variable "throttling_rate_limit" {
  description = "Default route steady-state rate limit (requests per second) of the stage."
  type        = number
  default     = 100

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

variable "tags" {
  description = "Tags applied to every taggable resource of the module."
  type        = map(string)
  default     = {}
}
