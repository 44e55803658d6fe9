mock_provider "aws" {
  mock_resource "aws_dynamodb_table" {
    defaults = {
      arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/wskit-test-connections"
    }
  }
}

variables {
  name = "wskit-test-connections"
}

run "shape_comes_from_table_json" {
  command = plan

  assert {
    condition     = aws_dynamodb_table.this[0].hash_key == "pk" && aws_dynamodb_table.this[0].range_key == "sk"
    error_message = "Keys are pk (hash) and sk (range), as table.json says."
  }

  assert {
    condition     = aws_dynamodb_table.this[0].ttl[0].attribute_name == "expiresAt" && aws_dynamodb_table.this[0].ttl[0].enabled
    error_message = "TTL is enabled on expiresAt."
  }

  assert {
    condition     = length(aws_dynamodb_table.this[0].global_secondary_index) == 0
    error_message = "The table has no secondary index: a user's connections live in their user item (the byUser index is gone)."
  }

  assert {
    condition     = toset([for attribute in aws_dynamodb_table.this[0].attribute : "${attribute.name}:${attribute.type}"]) == toset(["pk:S", "sk:S"])
    error_message = "Only the key attributes are declared, with their types (an attribute no key uses would fail CreateTable)."
  }

  assert {
    condition     = aws_dynamodb_table.this[0].billing_mode == "PAY_PER_REQUEST"
    error_message = "The table is on-demand by default."
  }

  assert {
    condition     = aws_dynamodb_table.this[0].point_in_time_recovery[0].enabled && aws_dynamodb_table.this[0].server_side_encryption[0].enabled
    error_message = "Point-in-time recovery and encryption at rest are on."
  }

  assert {
    condition     = aws_dynamodb_table.this[0].deletion_protection_enabled && !aws_dynamodb_table.this[0].stream_enabled
    error_message = "Deletion protection is on and the stream off by default."
  }
}

run "definition_matches_the_shared_file" {
  command = plan

  assert {
    condition     = length(aws_dynamodb_table.this[0].global_secondary_index) == length(jsondecode(file("table.json")).globalSecondaryIndexes)
    error_message = "Every index of table.json is built, and no other."
  }

  assert {
    condition     = output.ttl_attribute == jsondecode(file("table.json")).ttlAttribute
    error_message = "The TTL attribute comes from table.json."
  }
}

run "index_arns_follow_table_json" {
  command = apply

  assert {
    condition = output.index_arns == {
      for index in jsondecode(file("table.json")).globalSecondaryIndexes : index.name => "arn:aws:dynamodb:eu-west-1:123456789012:table/wskit-test-connections/index/${index.name}"
    }
    error_message = "index_arns has one ARN per index table.json declares (<table arn>/index/<name>), for IAM statements."
  }

  assert {
    condition     = length(output.index_arns) == 0
    error_message = "table.json declares no index today, so no index ARN is exposed."
  }
}

run "provisioned_customer_key_and_stream" {
  command = plan

  variables {
    billing_mode                = "PROVISIONED"
    read_capacity               = 10
    write_capacity              = 4
    kms_key_arn                 = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    stream_enabled              = true
    deletion_protection_enabled = false
  }

  assert {
    condition     = aws_dynamodb_table.this[0].read_capacity == 10 && aws_dynamodb_table.this[0].write_capacity == 4 && alltrue([for index in aws_dynamodb_table.this[0].global_secondary_index : index.read_capacity == 10 && index.write_capacity == 4])
    error_message = "Provisioned capacity applies to the table (and to any index table.json declares)."
  }

  assert {
    condition     = aws_dynamodb_table.this[0].server_side_encryption[0].kms_key_arn == "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "A customer managed key encrypts the table when given."
  }

  assert {
    condition     = aws_dynamodb_table.this[0].stream_enabled && aws_dynamodb_table.this[0].stream_view_type == "NEW_AND_OLD_IMAGES"
    error_message = "The optional stream carries new and old images."
  }
}

run "bad_billing_mode_is_rejected" {
  command = plan

  variables {
    billing_mode = "ON_DEMAND"
  }

  expect_failures = [var.billing_mode]
}
