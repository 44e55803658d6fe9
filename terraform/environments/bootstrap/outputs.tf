output "state_bucket" {
  description = "Bucket for every environment's state: put it in their backend.hcl (bucket = ...)."
  value       = aws_s3_bucket.this["state"].bucket
}

output "artifacts_bucket" {
  description = "Bucket pipelines upload dist/lambda/<name>.zip to (environments: lambda_artifacts.bucket); null when not created."
  value       = try(aws_s3_bucket.this["artifacts"].bucket, null)
}

output "api_gateway_logging_role_arn" {
  description = "The CloudWatch Logs role registered in API Gateway's account settings for this Region."
  value       = aws_api_gateway_account.this.cloudwatch_role_arn
}

output "api_gateway_logging_role_name" {
  description = "Name of that role: environments check it exists before they apply (api_gateway_logging_role_name)."
  value       = aws_iam_role.api_gateway_logging.name
}

output "region" {
  description = "Region bootstrapped."
  value       = var.region
}
