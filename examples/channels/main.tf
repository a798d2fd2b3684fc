# A root configuration that calls the channels example's ready-rendered module, ../../modules/channels, and adds a
# subscriber of its own to the review topic from the module's outputs: a queue in this account, delivered raw, whose
# undeliverable tasks go to the topic's dead-letter queue (where the module's dead-letter Lambda fails them at once).

provider "aws" {
  region = var.region
}

variable "region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "eu-west-1"
}

module "claims" {
  source = "../../modules/channels"

  tags = { Service = "claims" }
}

# The in-house reviewers' queue, subscribed to the review topic beside the partner's.
resource "aws_sqs_queue" "reviewers" {
  name                    = "claims-reviewers"
  sqs_managed_sse_enabled = true
}

# SNS may send to it for the review topic only.
resource "aws_sqs_queue_policy" "reviewers" {
  queue_url = aws_sqs_queue.reviewers.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "ReviewTopicDelivers"
      Effect    = "Allow"
      Principal = { Service = "sns.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.reviewers.arn
      Condition = { ArnEquals = { "aws:SourceArn" = module.claims.topic_arns["reviews"] } }
    }]
  })
}

resource "aws_sns_topic_subscription" "reviewers" {
  topic_arn            = module.claims.topic_arns["reviews"]
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.reviewers.arn
  raw_message_delivery = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = module.claims.topic_dead_letter_queue_arns["reviews"]
  })
}

output "state_machine_alias_arn" {
  description = "Start executions here."
  value       = module.claims.state_machine_alias_arn
}

output "queue_urls" {
  description = "Workers of the Assess step receive task messages from these."
  value       = module.claims.queue_urls
}

output "reviewers_queue_url" {
  description = "In-house reviewers receive the review tasks (as published) from this queue."
  value       = aws_sqs_queue.reviewers.url
}

output "callback_function_name" {
  description = "Workers and reviewers invoke this with the task token."
  value       = module.claims.callback_function_name
}
