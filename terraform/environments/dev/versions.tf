terraform {
  # S3 native state locking (use_lockfile) needs Terraform >= 1.10 or OpenTofu >= 1.10.
  # On older engines remove use_lockfile and set dynamodb_table (see ../README.md).
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.70, < 7.0"
    }
  }

  # Partial configuration: bucket and region come from `terraform init -backend-config=backend.hcl`
  # (copy backend.hcl.example), so one state bucket per account needs no edit here.
  backend "s3" {
    key          = "wskit/dev/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
