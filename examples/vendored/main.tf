# An infrastructure repository's root module: it owns the provider (region, default_tags) and calls the
# module that `sfngen render sfngen.toml -o modules/callbacks` wrote.

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Environment = var.environment
      Repository  = "infra"
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

variable "alarm_topic_arn" {
  description = "SNS topic that receives the callback alarms; null for none."
  type        = string
  default     = null
}

module "callbacks" {
  source = "./modules/callbacks"

  tags          = { CostCenter = "cc-42" }
  alarm_actions = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
}

output "state_machine_arn" {
  description = "Start executions here."
  value       = module.callbacks.state_machine_arn
}

output "queue_urls" {
  description = "Workers receive task messages from these."
  value       = module.callbacks.queue_urls
}

output "callback_function_name" {
  description = "Workers invoke this with the task token."
  value       = module.callbacks.callback_function_name
}
