# What every environment of one account and Region shares, owned here once so that no
# environment's apply or destroy can break another's:
#   - API Gateway's account-wide CloudWatch Logs role (a per-Region account setting that
#     every WebSocket stage with access logs needs),
#   - the S3 bucket that holds every environment's state,
#   - the S3 bucket pipelines upload the Lambda zips to (optional).

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # The environments look this role up by name (their api_gateway_logging_role_name).
  api_gateway_logging_role_name = "wskit-apigateway-logs-${var.region}"

  buckets = merge(
    {
      state = {
        name        = coalesce(var.state_bucket_name, "wskit-tfstate-${local.account_id}-${var.region}")
        description = "Terraform state of every wskit environment"
      }
    },
    var.create_artifacts_bucket ? {
      artifacts = {
        name        = coalesce(var.artifacts_bucket_name, "wskit-artifacts-${local.account_id}-${var.region}")
        description = "Lambda zips (dist/lambda/<name>.zip) uploaded by pipelines"
      }
    } : {},
  )
}

################################################################################
# API Gateway's CloudWatch Logs role (account setting, per Region)
################################################################################

resource "aws_iam_role" "api_gateway_logging" {
  name        = local.api_gateway_logging_role_name
  description = "Lets API Gateway write access and execution logs to CloudWatch Logs in ${var.region} (wskit bootstrap)"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "ApiGatewayAssumeRole"
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "apigateway.amazonaws.com" }
    }]
  })
}

# What AmazonAPIGatewayPushToCloudWatchLogs grants, but only on this account's log groups in this Region.
resource "aws_iam_role_policy" "api_gateway_logging" {
  name = "push-to-cloudwatch-logs"
  role = aws_iam_role.api_gateway_logging.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid    = "WriteApiGatewayLogs"
      Effect = "Allow"
      Action = [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
        "logs:GetLogEvents",
        "logs:FilterLogEvents",
      ]
      Resource = ["arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:*"]
    }]
  })
}

resource "aws_api_gateway_account" "this" {
  cloudwatch_role_arn = aws_iam_role.api_gateway_logging.arn

  depends_on = [aws_iam_role_policy.api_gateway_logging]
}

################################################################################
# State and artifacts buckets
################################################################################

resource "aws_s3_bucket" "this" {
  for_each = local.buckets

  #checkov:skip=CKV_AWS_18:Access logging needs a separate log bucket per account; CloudTrail data events are the audit trail of choice for a state bucket.
  #checkov:skip=CKV_AWS_144:Cross-Region replication is a disaster-recovery choice per organisation; versioning already keeps every earlier state and zip.
  #checkov:skip=CKV2_AWS_62:Nothing consumes events from these buckets.
  #checkov:skip=CKV_AWS_145:SSE-S3 by default; kms_key_arn switches both buckets to a customer managed key.
  bucket        = each.value.name
  force_destroy = var.force_destroy

  tags = { Purpose = each.value.description }
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = local.buckets

  bucket                  = aws_s3_bucket.this[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = var.kms_key_arn != null
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

# TLS only: any request over plain HTTP is denied.
resource "aws_s3_bucket_policy" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource = [
        aws_s3_bucket.this[each.key].arn,
        "${aws_s3_bucket.this[each.key].arn}/*",
      ]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })

  depends_on = [aws_s3_bucket_public_access_block.this]
}
