provider "aws" {
  region = "eu-west-1"
}

module "monitoring" {
  source = "../.."

  name = "wskit-example"

  api = {
    id    = "a1b2c3d4e5"
    stage = "example"
  }

  function_names = {
    connect    = "wskit-example-connect"
    disconnect = "wskit-example-disconnect"
    message    = "wskit-example-message"
    authorizer = "wskit-example-authorizer"
  }

  # The authorizer's Lambda Errors are its refusals (it throws Unauthorized): no Errors alarm.
  error_alarm_excluded_functions = ["authorizer"]

  authorizer = {
    service = "wskit-authorizer"
  }

  refusals = {
    services  = ["wskit-authorizer", "wskit-connect"]
    threshold = 100
  }

  table = {
    name       = "wskit-example-connections"
    operations = ["PutItem", "DeleteItem", "Query"]
  }

  # The HTTP API's 5xx and latency, and what clients report through the message router.
  http_api = {
    id    = "f6g7h8i9j0"
    stage = "example"
  }
  client_health = {
    service = "wskit-message"
  }

  create_sns_topic      = true
  alarm_email_addresses = ["oncall@example.com"]
}

output "alarm_names" {
  description = "Alarms created."
  value       = module.monitoring.alarm_names
}

output "dashboard_name" {
  description = "Dashboard."
  value       = module.monitoring.dashboard_name
}
