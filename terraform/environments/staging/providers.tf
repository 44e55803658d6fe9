provider "aws" {
  region = var.region

  # Every taggable resource gets these; the modules add nothing that conflicts.
  default_tags {
    tags = merge(var.tags, {
      Project     = "wskit"
      Environment = "staging"
      ManagedBy   = "terraform"
    })
  }
}
