provider "aws" {
  region = "eu-west-1"
}

# Everything wskit needs with the defaults: run ./build.sh first.
module "websocket" {
  # How another team pins the module: a git source at a release tag. The repository's checks
  # rewrite this source to the local module, so the example validates against this tree.
  source = "git::https://github.com/<org>/wskit.git//terraform/modules/websocket-service?ref=v0.2.0"

  name               = "wskit-example"
  lambda_package_dir = "${path.root}/dist/lambda" # the zips ./build.sh writes, copied here by your pipeline

  jwks_uri     = "https://idp.example.com/.well-known/jwks.json"
  jwt_issuer   = "https://idp.example.com/"
  jwt_audience = ["wskit-example"]

  # Allow `terraform destroy` of the example.
  deletion_protection_enabled = false
}

output "wss_url" {
  description = "Connect here with ?token=<JWT>."
  value       = module.websocket.wss_url
}

output "callback_url" {
  description = "Management API base URL."
  value       = module.websocket.callback_url
}
