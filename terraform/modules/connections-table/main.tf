locals {
  # The one shared definition of the table: the local gateway creates the very same shape.
  definition = jsondecode(file("${path.module}/table.json"))

  provisioned = var.billing_mode == "PROVISIONED"
}

resource "aws_dynamodb_table" "this" {
  count = var.create ? 1 : 0

  name                        = var.name
  billing_mode                = var.billing_mode
  read_capacity               = local.provisioned ? var.read_capacity : null
  write_capacity              = local.provisioned ? var.write_capacity : null
  hash_key                    = local.definition.hashKey
  range_key                   = local.definition.rangeKey
  table_class                 = var.table_class
  deletion_protection_enabled = var.deletion_protection_enabled
  stream_enabled              = var.stream_enabled
  stream_view_type            = var.stream_enabled ? var.stream_view_type : null

  dynamic "attribute" {
    for_each = local.definition.attributes

    content {
      name = attribute.value.name
      type = attribute.value.type
    }
  }

  dynamic "global_secondary_index" {
    for_each = local.definition.globalSecondaryIndexes

    content {
      name               = global_secondary_index.value.name
      hash_key           = global_secondary_index.value.hashKey
      range_key          = try(global_secondary_index.value.rangeKey, null)
      projection_type    = global_secondary_index.value.projectionType
      non_key_attributes = try(global_secondary_index.value.nonKeyAttributes, null)
      read_capacity      = local.provisioned ? var.read_capacity : null
      write_capacity     = local.provisioned ? var.write_capacity : null
    }
  }

  ttl {
    attribute_name = local.definition.ttlAttribute
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery_enabled
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}
