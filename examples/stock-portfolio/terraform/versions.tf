terraform {
  required_version = ">= 1.7"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.70, < 7.0"
    }
  }

  # State: add your backend here (an S3 bucket with locking, as terraform/environments/* do).
}
