# A root configuration that calls the channels example's ready-rendered module, ../../modules/channels, and wires a
# partner's queue to the partners bus as a team would: a target on the module's rule, with the module's dead-letter
# queue, and the queue policy that lets that rule (only) send.

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

module "channels" {
  source = "../../modules/channels"

  partners_bus_publisher_accounts = var.partner_accounts
}

# The partner's inbox: here a queue in this account; an API destination or another account's bus works the same way.
resource "aws_sqs_queue" "partner_inbox" {
  name                    = "channels-partner-inbox"
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
      Condition = { ArnEquals = { "aws:SourceArn" = module.channels.bus_rule_arns["partners"] } }
    }]
  })
}

resource "aws_cloudwatch_event_target" "partner_inbox" {
  rule           = module.channels.bus_rule_names["partners"]
  event_bus_name = module.channels.bus_names["partners"]
  target_id      = "partner-inbox"
  arn            = aws_sqs_queue.partner_inbox.arn

  dead_letter_config {
    arn = module.channels.bus_dead_letter_queue_arns["partners"]
  }
}

output "state_machine_alias_arn" {
  description = "Start executions here."
  value       = module.channels.state_machine_alias_arn
}

output "partner_inbox_url" {
  description = "The partner's worker receives the task events here; each event's detail is the task message."
  value       = aws_sqs_queue.partner_inbox.url
}

output "callback_function_name" {
  description = "Workers invoke this with the task token."
  value       = module.channels.callback_function_name
}
