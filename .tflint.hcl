# tflint configuration for every module, example and environment under terraform/.
# `npm run test:infra` runs tflint with TFLINT_PLUGIN_DIR pointing at the ruleset that
# scripts/infra/install.sh built at the version below, so nothing is downloaded. With
# normal registry access, `tflint --init` installs the same version instead.

config {
  # Follow local module calls (environments -> modules) so the values passed in are
  # checked against the rules too.
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "recommended"
}

plugin "aws" {
  enabled = true
  version = "0.48.0" # keep in step with WSKIT_TFLINT_RULESET_AWS_VERSION in scripts/infra/lib.sh
  source  = "github.com/terraform-linters/tflint-ruleset-aws"
}
