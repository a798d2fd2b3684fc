# A root configuration that calls the fan-out example's ready-rendered module, ../../modules/fanout. Another
# repository calls it the same way with a git source (see the README's layout section):
#   source = "git::<this repository>//modules/fanout?ref=<a release tag>"

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

module "lines" {
  source = "../../modules/fanout"

  callback_lambda_zip = var.callback_lambda_zip
}

output "state_machine_arn" {
  description = "Start executions here, with {\"lines\": [...]}."
  value       = module.lines.state_machine_arn
}

output "queue_urls" {
  description = "Workers receive one task message per line from these."
  value       = module.lines.queue_urls
}

output "callback_function_name" {
  description = "Workers invoke this with each item's task token."
  value       = module.lines.callback_function_name
}
