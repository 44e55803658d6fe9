terraform {
  required_version = ">= 1.7"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.70, < 7.0"
    }
  }

  # State: local (terraform.tfstate here) for the first apply, which creates the state
  # bucket; then move it into that bucket (see ../README.md, "Bootstrap").
}
