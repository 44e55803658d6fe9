mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/wskit-apigateway-logs-eu-west-1"
    }
  }

  mock_resource "aws_s3_bucket" {
    defaults = {
      arn = "arn:aws:s3:::wskit-bucket"
    }
  }
}

run "shared_resources_of_an_account_and_region" {
  command = apply

  assert {
    condition     = aws_api_gateway_account.this.cloudwatch_role_arn == aws_iam_role.api_gateway_logging.arn && output.api_gateway_logging_role_name == "wskit-apigateway-logs-eu-west-1"
    error_message = "The bootstrap registers its logging role in API Gateway's account settings, under the name environments look for."
  }

  assert {
    condition     = jsondecode(aws_iam_role_policy.api_gateway_logging.policy).Statement[0].Resource == ["arn:aws:logs:eu-west-1:123456789012:log-group:*"]
    error_message = "The logging role writes to this account's log groups in this Region only."
  }

  assert {
    condition     = output.state_bucket == "wskit-tfstate-123456789012-eu-west-1" && output.artifacts_bucket == "wskit-artifacts-123456789012-eu-west-1"
    error_message = "Buckets are named after the account and Region by default."
  }
}

run "buckets_are_versioned_encrypted_private_and_tls_only" {
  command = plan

  assert {
    condition     = alltrue([for key in ["state", "artifacts"] : aws_s3_bucket_versioning.this[key].versioning_configuration[0].status == "Enabled"])
    error_message = "Both buckets keep every version (the way back to an earlier state or zip)."
  }

  assert {
    condition     = alltrue([for key in ["state", "artifacts"] : one(one(aws_s3_bucket_server_side_encryption_configuration.this[key].rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"])
    error_message = "Both buckets are encrypted at rest."
  }

  assert {
    condition = alltrue([for key in ["state", "artifacts"] :
      aws_s3_bucket_public_access_block.this[key].block_public_acls && aws_s3_bucket_public_access_block.this[key].block_public_policy &&
      aws_s3_bucket_public_access_block.this[key].ignore_public_acls && aws_s3_bucket_public_access_block.this[key].restrict_public_buckets
    ])
    error_message = "Public access is blocked on both buckets."
  }

  assert {
    condition = alltrue([for key in ["state", "artifacts"] :
      jsondecode(aws_s3_bucket_policy.this[key].policy).Statement[0].Effect == "Deny" &&
      jsondecode(aws_s3_bucket_policy.this[key].policy).Statement[0].Condition == { Bool = { "aws:SecureTransport" = "false" } }
    ])
    error_message = "Requests without TLS are denied."
  }

  assert {
    condition     = alltrue([for key in ["state", "artifacts"] : !aws_s3_bucket.this[key].force_destroy])
    error_message = "A destroy never empties the buckets unless asked to."
  }
}

run "customer_managed_key" {
  command = plan

  variables {
    kms_key_arn             = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    create_artifacts_bucket = false
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this["state"].rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms" && length(aws_s3_bucket.this) == 1
    error_message = "kms_key_arn switches the buckets to SSE-KMS; the artifacts bucket is optional."
  }
}
