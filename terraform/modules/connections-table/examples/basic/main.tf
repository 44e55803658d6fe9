provider "aws" {
  region = "eu-west-1"
}

# The wskit connections table on its own, e.g. for a service that only reads connections.
module "connections_table" {
  source = "../.."

  name = "wskit-example-connections"

  # Allow `terraform destroy` of the example.
  deletion_protection_enabled = false

  tags = {
    Project = "wskit-example"
  }
}

output "table_name" {
  description = "Name of the table."
  value       = module.connections_table.table_name
}

output "table_arn" {
  description = "ARN for IAM statements (the table has no secondary index)."
  value       = module.connections_table.table_arn
}
