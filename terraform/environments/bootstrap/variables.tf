variable "region" {
  description = "AWS Region to bootstrap. API Gateway's CloudWatch Logs role is a per-Region account setting: apply this root once in every Region that runs an environment."
  type        = string
  default     = "eu-west-1"
}

variable "state_bucket_name" {
  description = "Name of the S3 bucket holding every environment's Terraform state. Null: wskit-tfstate-<account id>-<region>."
  type        = string
  default     = null
}

variable "create_artifacts_bucket" {
  description = "Create a versioned S3 bucket for the Lambda zips a pipeline uploads (dist/lambda/<name>.zip), which environments deploy by object version (lambda_artifacts)."
  type        = bool
  default     = true
}

variable "artifacts_bucket_name" {
  description = "Name of the artifacts bucket. Null: wskit-artifacts-<account id>-<region>."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for both buckets. Null: S3 managed keys (SSE-S3)."
  type        = string
  default     = null
}

variable "noncurrent_version_retention_days" {
  description = "Days an overwritten state or artifact version is kept (the way back to an earlier state file or Lambda zip) before S3 expires it."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_retention_days >= 1
    error_message = "noncurrent_version_retention_days must be at least 1."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the buckets with every state and artifact version in them. Keep false outside throwaway accounts."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}
