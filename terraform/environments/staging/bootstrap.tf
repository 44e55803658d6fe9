# What terraform/environments/bootstrap creates once per account and Region and this
# environment relies on: API Gateway's CloudWatch Logs role (the stage's access logs need it;
# without it the stage fails with "CloudWatch Logs role ARN must be set in account
# settings"). The environment never manages it, so destroying it cannot break another.
locals {
  api_gateway_logging_role_name = var.api_gateway_logging_role_name == null ? "wskit-apigateway-logs-${var.region}" : var.api_gateway_logging_role_name
}

# Nothing reads its result: it exists for its postcondition, which fails the plan when the
# bootstrap has not been applied.
# tflint-ignore: terraform_unused_declarations
data "aws_iam_roles" "api_gateway_logging" {
  count = local.api_gateway_logging_role_name == "" ? 0 : 1

  name_regex = "^${local.api_gateway_logging_role_name}$"

  lifecycle {
    postcondition {
      condition     = length(self.names) == 1
      error_message = "No IAM role ${local.api_gateway_logging_role_name}: API Gateway's CloudWatch Logs role for ${var.region} is missing. Apply terraform/environments/bootstrap once for this account and Region first (cd terraform/environments/bootstrap && terraform init && terraform apply -var region=${var.region}; see docs/operations.md, \"First apply\"). If your account baseline registers another role, set api_gateway_logging_role_name to its name, or to \"\" to skip this check."
    }
  }
}
