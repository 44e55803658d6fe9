provider "aws" {
  region = "eu-west-1"
}

variable "package_dir" {
  description = "Directory with the zips ./build.sh writes."
  type        = string
  default     = "../../../../../dist/lambda"
}

# An API whose routes all go to one function, authorized by a second one on $connect.
module "handler" {
  source = "../../../lambda-function"

  function_name = "wskit-example-handler"
  package_path  = "${var.package_dir}/message.zip"
  environment_variables = {
    WSKIT_TABLE_NAME = "wskit-example-connections"
  }
}

module "authorizer" {
  source = "../../../lambda-function"

  function_name = "wskit-example-authorizer"
  package_path  = "${var.package_dir}/authorizer.zip"
  environment_variables = {
    WSKIT_JWKS_URI     = "https://idp.example.com/.well-known/jwks.json"
    WSKIT_JWT_ISSUER   = "https://idp.example.com/"
    WSKIT_JWT_AUDIENCE = "wskit-example"
  }
}

module "api" {
  source = "../.."

  name       = "wskit-example"
  stage_name = "example"

  integrations = {
    handler = {
      function_name = module.handler.function_name
      invoke_arn    = module.handler.invoke_arn
    }
  }

  routes = {
    "$connect"    = { integration = "handler" }
    "$disconnect" = { integration = "handler" }
    "$default"    = { integration = "handler", two_way = true }
    "ping"        = { integration = "handler", two_way = true }
  }

  authorizer = {
    function_name = module.authorizer.function_name
    invoke_arn    = module.authorizer.invoke_arn
  }

  throttling_burst_limit       = 50
  throttling_rate_limit        = 100
  access_log_retention_in_days = 14
}

output "wss_url" {
  description = "Connect here with ?token=<JWT>."
  value       = module.api.wss_url
}

output "callback_url" {
  description = "Management API base URL."
  value       = module.api.callback_url
}
