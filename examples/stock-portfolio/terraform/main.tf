# StockPicker on AWS, as a team that consumes wskit builds it: its own two tables with streams,
# the wskit service from the websocket-service module, and both streams fed to the one
# broadcaster it creates. Each item names its topic (attribute `topic`: stock:<SYMBOL> for
# prices, user:<owner> for portfolios and alerts), so the broadcaster's default mapping serves
# both tables; the module's broadcaster reads the prices stream, and a second mapping (the
# broadcaster module) reads the portfolios stream into the same function.

locals {
  lambda_package_dir = coalesce(var.lambda_package_dir, "${path.root}/../../../dist/lambda")
  # Only new and changed items are pushed; a TTL deletion of an alert is not news.
  new_and_changed = [jsonencode({ eventName = ["INSERT", "MODIFY"] })]
}

resource "aws_dynamodb_table" "prices" {
  #checkov:skip=CKV_AWS_119:Example tables; encryption with the AWS owned key is enough here.
  name             = "${var.name}-prices"
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = "symbol"
  stream_enabled   = true
  stream_view_type = "NEW_IMAGE"

  attribute {
    name = "symbol"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }
}

resource "aws_dynamodb_table" "portfolios" {
  #checkov:skip=CKV_AWS_119:Example tables; encryption with the AWS owned key is enough here.
  name             = "${var.name}-portfolios"
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = "owner"
  range_key        = "sk"
  stream_enabled   = true
  stream_view_type = "NEW_IMAGE"

  attribute {
    name = "owner"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  # Alert items (sk alert#...) carry expiresAt.
  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }
}

module "websocket" {
  # How another team pins the module: a git source at a release tag (the repository's checks
  # rewrite it to the local module, so this root validates and applies against this tree).
  source = "git::https://github.com/<org>/wskit.git//terraform/modules/websocket-service?ref=v0.2.0"

  name               = var.name
  stage_name         = "live"
  lambda_package_dir = local.lambda_package_dir

  jwks_uri     = var.jwks_uri
  jwt_issuer   = var.jwt_issuer
  jwt_audience = var.jwt_audience

  # Prices are for anyone signed in; user:<sub> is always only that user's.
  public_topic_prefixes = ["stock:"]
  log_retention_in_days = var.log_retention_in_days

  broadcaster = {
    enabled           = true
    source_type       = "dynamodb"
    event_source_arn  = aws_dynamodb_table.prices.stream_arn
    batch_size        = 100
    starting_position = "LATEST"
    filter_patterns   = local.new_and_changed
  }

  # What the portfolios mapping needs, on the broadcaster's role (read that stream, send
  # failed records to its failure queue). Prefixed: statement ids are unique per policy.
  additional_policy_statements = {
    broadcaster = { for sid, statement in module.portfolio_stream.policy_statements : "Portfolios${sid}" => statement }
  }

  tags = var.tags
}

module "portfolio_stream" {
  source = "git::https://github.com/<org>/wskit.git//terraform/modules/broadcaster?ref=v0.2.0"

  name          = "${var.name}-portfolios"
  function_name = module.websocket.function_names["broadcaster"]
  # The broadcaster's role already has an inline policy from the module's own mapping; this
  # mapping's statements go into its main policy through additional_policy_statements above.
  function_role_name = null

  source_type       = "dynamodb"
  event_source_arn  = aws_dynamodb_table.portfolios.stream_arn
  batch_size        = 100
  starting_position = "LATEST"
  filter_patterns   = local.new_and_changed

  tags = var.tags
}
