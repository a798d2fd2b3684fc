"""A human approval whose notification rides an EventBridge bus, end to end on the emulator: the notifier puts the
event on the module's custom bus, naming the state machine in `resources` as Step Functions' own events do, so the
module's rule (which matches this state machine's ARN on a bus other instances may share) hands it to the target
the caller added (an SQS queue here, the partner's system); the event's detail holds the link and never the token;
the link decides in the browser and the execution moves on. Then an empty re-plan and a clean destroy."""

import json
from pathlib import Path

import pytest

from harness import module_key, render
from test_approval import Approvals, link_parts, receive
from tfstack import lifecycle

HERE = Path(__file__).resolve().parent
SPEC = HERE / "approval" / "bus.toml"
KEY = module_key(SPEC)
NAME = "e2e-approval-bus"

# The caller's side: the partner's queue behind the module's rule, and the policy that lets that rule (only) send.
TARGETS = f"""
resource "aws_sqs_queue" "partner" {{
  name                    = "{NAME}-partner"
  sqs_managed_sse_enabled = true
}}

resource "aws_sqs_queue_policy" "partner" {{
  queue_url = aws_sqs_queue.partner.id
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Sid       = "RuleSends"
      Effect    = "Allow"
      Principal = {{ Service = "events.amazonaws.com" }}
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.partner.arn
      Condition = {{ ArnEquals = {{ "aws:SourceArn" = module.{KEY}.bus_rule_arns["partners"] }} }}
    }}]
  }})
}}

resource "aws_cloudwatch_event_target" "partner" {{
  rule           = module.{KEY}.bus_rule_names["partners"]
  event_bus_name = module.{KEY}.bus_names["partners"]
  target_id      = "partner"
  arn            = aws_sqs_queue.partner.arn

  dead_letter_config {{
    arn = module.{KEY}.bus_dead_letter_queue_arns["partners"]
  }}
}}
"""


def prepare(stack):
    stack.add_module(KEY, SPEC, render)
    stack.write_root()
    (stack.dir / "partner.tf").write_text(TARGETS)


pytestmark = pytest.mark.stack("approval_bus", lifecycle(prepare))


@pytest.fixture(scope="module")
def applied(stacks):
    return stacks["approval_bus"].result("apply")


@pytest.fixture(scope="module")
def approvals(moto, applied):
    side = Approvals(moto, applied[KEY], NAME)
    yield side
    side.stop()


def test_the_bus_carries_the_link_to_the_rules_target_and_the_decision_moves_the_execution_on(approvals, moto):
    order = {"order": 2001, "partner": "Globex"}
    execution = approvals.start(order)
    request = approvals.notify_once()
    assert request["approval"]["channel"] == "bus", request["approval"]
    assert (request["approval"]["source"], request["approval"]["detail_type"]) == (
        "com.example.approvals",
        "Approval requested",
    )

    # The partner's queue gets the event through the module's rule: it names this state machine in `resources`,
    # and its detail holds the link, never the token or the input.
    url = moto.client("sqs").get_queue_url(QueueName=f"{NAME}-partner")["QueueUrl"]
    body = receive(moto, url)["Body"]
    assert request["token"] not in body and "Globex" not in body
    event = json.loads(body)
    assert (event["source"], event["detail-type"]) == ("com.example.approvals", "Approval requested"), event
    assert event["resources"] == [approvals.outputs["state_machine_arn"]], event
    notice = event["detail"]["approval"]
    assert (notice["state"], notice["execution"]) == ("PartnerApproval", execution), notice
    link = notice["url"]
    assert link.startswith(approvals.outputs["approval_page_url"] + "?id=") and link_parts(link)["id"] == notice["id"]

    # The browser opens it and approves: the execution succeeds with its input and the decision.
    assert approvals.open(link)["status"] == 200, approvals.browser.html()
    assert approvals.outcome() == "page"
    assert approvals.browser.click("#approve")["status"] == 200, approvals.browser.html()
    assert approvals.outcome() == "approved"
    done = approvals.wait_for_end(execution)
    assert done["status"] == "SUCCEEDED", done
    output = json.loads(done["output"])
    assert output.pop("approval")["approved"] is True and output == order, output


def test_the_applied_bus_approval_plans_no_change(stacks):
    code, plan = stacks["approval_bus"].result("drift")
    assert code == 0, json.dumps(plan, indent=1)[:4000] if plan else code


@pytest.mark.last
def test_destroy_leaves_nothing(stacks):
    done = stacks["approval_bus"].destroy().result("destroy")
    assert done["state_list"] == [], done["state_list"]
    assert all(not left for left in done["leftovers"].values()), done["leftovers"]
