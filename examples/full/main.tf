# A root configuration that calls the fuller example's ready-rendered module, ../../modules/full, with a
# permissions boundary and an alarm topic of its own. Another repository calls it the same way with a git
# source (see the README's layout section):
#   source = "git::<this repository>//modules/full?ref=<a release tag>"

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Environment = var.environment
    }
  }
}

variable "region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "eu-west-1"
}

variable "environment" {
  description = "Environment name, added to every resource's tags by the provider."
  type        = string
  default     = "staging"
}

variable "permissions_boundary" {
  description = "IAM policy set as the permissions boundary of the module's roles; null for none."
  type        = string
  default     = null
}

variable "alarm_topic_arn" {
  description = "SNS topic that receives the alarms; null for none."
  type        = string
  default     = null
}

variable "callback_lambda_zip" {
  description = "Path of the callback Lambda package (arm64); null uses the callback.zip the module carries (the package sfngen ships, in git with the module)."
  type        = string
  default     = null
}

module "orders" {
  source = "../../modules/full"

  tags                 = { Service = "orders" }
  permissions_boundary = var.permissions_boundary
  alarm_actions        = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
  callback_lambda_zip  = var.callback_lambda_zip
}

output "state_machine_arn" {
  description = "Start executions here."
  value       = module.orders.state_machine_arn
}

output "queue_urls" {
  description = "Workers receive task messages from these."
  value       = module.orders.queue_urls
}

output "callback_function_name" {
  description = "Workers invoke this with the task token."
  value       = module.orders.callback_function_name
}

output "kms_key_arn" {
  description = "Workers of the KMS-encrypted queue need kms:Decrypt on this key."
  value       = module.orders.kms_key_arn
}
