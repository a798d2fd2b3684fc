# A root configuration that calls the seed's ready-rendered module, ../../modules/seed. Another repository
# calls it the same way with a git source (see the README's layout section):
#   source = "git::<this repository>//modules/seed?ref=<a release tag>"

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

module "callback_demo" {
  source = "../../modules/seed"

  callback_lambda_zip = var.callback_lambda_zip
}

output "state_machine_arn" {
  description = "Start executions here."
  value       = module.callback_demo.state_machine_arn
}

output "queue_urls" {
  description = "Workers receive task messages from these."
  value       = module.callback_demo.queue_urls
}

output "callback_function_name" {
  description = "Workers invoke this with the task token."
  value       = module.callback_demo.callback_function_name
}
