provider "aws" {
  region = "eu-west-1"
}

variable "package_dir" {
  description = "Directory with the zips ./build.sh writes."
  type        = string
  default     = "../../../../../dist/lambda"
}

# The HTTP API on its own: a topic's history and publish for browsers (a user's JWT,
# checked by the wskit authorizer) and for backends (IAM). The functions' environment and
# table are left out here; the websocket-service module wires them from the manifests.
module "http" {
  source = "../../../lambda-function"

  function_name = "wskit-example-http"
  package_path  = "${var.package_dir}/http.zip"
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

module "http_api" {
  source = "../.."

  name       = "wskit-example-http"
  stage_name = "example"

  integrations = {
    http = {
      function_name = module.http.function_name
      invoke_arn    = module.http.invoke_arn
    }
  }

  routes = {
    "GET /topics/{topic}/messages"      = { integration = "http", authorization = "token" }
    "POST /topics/{topic}/messages"     = { integration = "http", authorization = "token" }
    "POST /iam/topics/{topic}/messages" = { integration = "http", authorization = "iam" }
  }

  authorizer = {
    function_name = module.authorizer.function_name
    invoke_arn    = module.authorizer.invoke_arn
  }

  cors = {
    allow_origins = ["https://app.example.com"]
  }

  throttling_burst_limit       = 50
  throttling_rate_limit        = 25
  access_log_retention_in_days = 14
}

# A backend role that may publish to any topic through the /iam route, and nothing else.
data "aws_iam_policy_document" "publisher" {
  statement {
    sid       = "PublishThroughTheHttpApi"
    actions   = ["execute-api:Invoke"]
    resources = [module.http_api.iam_invoke_arns["POST /iam/topics/{topic}/messages"]]
  }
}

output "url" {
  description = "Base URL: GET/POST <url>/topics/<topic, percent-encoded twice>/messages."
  value       = module.http_api.url
}

output "publisher_policy_json" {
  description = "Attach to the backend's role."
  value       = data.aws_iam_policy_document.publisher.json
}
