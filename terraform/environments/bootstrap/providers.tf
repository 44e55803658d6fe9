provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, {
      Project   = "wskit"
      Component = "bootstrap"
      ManagedBy = "terraform"
    })
  }
}
