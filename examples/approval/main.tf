# A root configuration that calls the approval example's ready-rendered module, ../../modules/approval. Another
# repository calls it the same way with a git source (see the README's layout section):
#   source = "git::<this repository>//modules/approval?ref=<a release tag>"

provider "aws" {
  region = var.region
}

variable "region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "eu-west-1"
}

variable "callback_lambda_zip" {
  description = "Path of the callback Lambda package (arm64); null uses the callback.zip the module carries (the package sfngen ships, in git with the module)."
  type        = string
  default     = null
}

module "purchases" {
  source = "../../modules/approval"

  callback_lambda_zip = var.callback_lambda_zip
}

output "state_machine_alias_arn" {
  description = "Start executions here, with {\"order\": ..., \"lines\": [...]}."
  value       = module.purchases.state_machine_alias_arn
}

output "approval_page_url" {
  description = "Every approval link points at this page."
  value       = module.purchases.approval_page_url
}

output "callback_endpoint_url" {
  description = "Workers POST HMAC-signed answers for the Ship step here."
  value       = module.purchases.callback_endpoint_url
}

output "endpoint_secret_arn" {
  description = "Put the endpoint's signing key (at least 32 bytes) in this secret."
  value       = module.purchases.endpoint_secret_arn
}
