variable "region" {
  description = "AWS Region of the tables, the functions and the API."
  type        = string
  default     = "eu-west-1"
}

variable "name" {
  description = "Prefix of every name (tables, functions, API, queues)."
  type        = string
  default     = "opsdash"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be 2-31 lowercase letters, digits and '-', starting with a letter."
  }
}

variable "jwks_uri" {
  description = "The identity provider's JWKS URL (the authorizer verifies tokens against it)."
  type        = string
}

variable "jwt_issuer" {
  description = "The tokens' required iss."
  type        = string
}

variable "jwt_audience" {
  description = "Accepted aud values."
  type        = list(string)
}

variable "lambda_package_dir" {
  description = "Where ./build.sh wrote the wskit zips (dist/lambda). Null: the repository's dist/lambda."
  type        = string
  default     = null
}

variable "log_retention_in_days" {
  description = "Retention of the functions' and the API's logs."
  type        = number
  default     = 14
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "coalescer_package_path" {
  description = "The coalescer's zip (node examples/ops-dashboard/build.mjs writes it). Null: examples/ops-dashboard/dist/lambda/coalescer.zip."
  type        = string
  default     = null
}
