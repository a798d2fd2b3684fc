# A root configuration that calls the channels example's ready-rendered module, ../../modules/channels, and wires
# what the module leaves to its caller, as a team would: a subscriber of its own to the review topic (a queue in this
# account, delivered raw, whose undeliverable tasks go to the topic's dead-letter queue, where the module's
# dead-letter Lambda fails them at once), and a partner's queue as a target of the partners bus's rule (with the
# module's dead-letter queue, and the queue policy that lets that rule only send).

provider "aws" {
  region = var.region
}

variable "region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "eu-west-1"
}

variable "partner_accounts" {
  description = "Accounts that may put events on the partners bus (the module's bus policy)."
  type        = list(string)
  default     = ["111122223333"]
}

module "claims" {
  source = "../../modules/channels"

  tags                            = { Service = "claims" }
  partners_bus_publisher_accounts = var.partner_accounts
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

# The partner's inbox: here a queue in this account; an API destination or another account's bus works the same way.
resource "aws_sqs_queue" "partner_inbox" {
  name                    = "claims-partner-inbox"
  sqs_managed_sse_enabled = true
}

resource "aws_sqs_queue_policy" "partner_inbox" {
  queue_url = aws_sqs_queue.partner_inbox.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "PartnersRuleSends"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.partner_inbox.arn
      Condition = { ArnEquals = { "aws:SourceArn" = module.claims.bus_rule_arns["partners"] } }
    }]
  })
}

resource "aws_cloudwatch_event_target" "partner_inbox" {
  rule           = module.claims.bus_rule_names["partners"]
  event_bus_name = module.claims.bus_names["partners"]
  target_id      = "partner-inbox"
  arn            = aws_sqs_queue.partner_inbox.arn

  dead_letter_config {
    arn = module.claims.bus_dead_letter_queue_arns["partners"]
  }
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

output "partner_inbox_url" {
  description = "The partner's worker receives the task events here; each event's detail is the task message."
  value       = aws_sqs_queue.partner_inbox.url
}

output "callback_function_name" {
  description = "Workers and reviewers invoke this with the task token."
  value       = module.claims.callback_function_name
}
