"""Every committed example through the whole Terraform lifecycle on the emulator, with the real CLI and the
real hashicorp/aws provider: init, validate with no diagnostics, plan, apply, a second plan that finds
nothing to change, destroy, and then nothing left in the state or in the emulator.

examples/seed, examples/full and examples/channels are called as modules from the main stack's root (with the
end-to-end specs); examples/vendored is a root of its own that calls ./modules/callbacks."""

import pytest

EXAMPLES = {
    # example: (stack, module address)
    "seed": ("main", "module.seed"),
    "full": ("main", "module.full"),
    "channels": ("main", "module.channels"),
    "vendored": ("vendored", "module.callbacks"),
}

pytestmark = [pytest.mark.stack("main"), pytest.mark.stack("vendored")]

# What each example must create, at least: the pattern's core and, for full, its optional parts.
EXPECTED_TYPES = {
    "seed": {"aws_sfn_state_machine", "aws_sqs_queue", "aws_sqs_queue_redrive_allow_policy", "aws_sqs_queue_policy",
             "aws_cloudwatch_log_metric_filter", "aws_lambda_function",
             "aws_iam_role", "aws_iam_role_policy", "aws_cloudwatch_log_group"},
}
EXPECTED_TYPES["full"] = EXPECTED_TYPES["seed"] | {"aws_kms_key", "aws_kms_alias", "aws_cloudwatch_metric_alarm"}
EXPECTED_TYPES["vendored"] = EXPECTED_TYPES["seed"] | {"aws_cloudwatch_metric_alarm"}
EXPECTED_TYPES["channels"] = EXPECTED_TYPES["seed"] | {
    "aws_sns_topic", "aws_sns_topic_policy", "aws_sns_topic_subscription", "aws_kms_key", "aws_cloudwatch_metric_alarm",
}


def module_changes(plan: dict, address: str) -> list:
    changes = plan.get("resource_changes", [])
    return [c for c in changes if c.get("module_address") == address and c["mode"] == "managed"]


@pytest.mark.parametrize("example", EXAMPLES)
def test_validate_reports_no_diagnostics(stacks, example):
    stack, _ = EXAMPLES[example]
    report = stacks[stack].result("validate")
    assert (report["valid"], report["error_count"], report["warning_count"]) == (True, 0, 0), report
    assert report["diagnostics"] == []


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_first_plan_creates_the_whole_pattern(stacks, example):
    stack, address = EXAMPLES[example]
    code, plan = stacks[stack].result("plan")
    assert code == 2
    changes = module_changes(plan, address)
    assert {c["type"] for c in changes} >= EXPECTED_TYPES[example]
    assert {tuple(c["change"]["actions"]) for c in changes} == {("create",)}


@pytest.mark.parametrize("example", EXAMPLES)
def test_after_apply_a_second_plan_finds_nothing_to_change(stacks, example):
    stack, address = EXAMPLES[example]
    outputs = stacks[stack].result("apply")
    assert outputs, "the root has no outputs"
    code, plan = stacks[stack].result("drift")
    if code:
        changing = [(c["address"], c["change"]["actions"]) for c in module_changes(plan, address)]
        assert [a for a in changing if a[1] != ["no-op"]] == []


@pytest.mark.parametrize("stack", ["main", "vendored"])
def test_nothing_in_a_stack_drifts_after_apply(stacks, stack):
    """The main stack also holds the end-to-end specs' modules: none of them drifts either."""
    code, plan = stacks[stack].result("drift")
    if code:
        changing = [(c["address"], c["change"]["actions"]) for c in plan["resource_changes"]]
        assert [a for a in changing if a[1] != ["no-op"]] == []
    assert code == 0


def test_the_vendored_root_passes_its_settings_to_the_module(stacks, moto):
    """The vendored root's default_tags (provider) and tags (module argument) reach the resources."""
    outputs = stacks["vendored"].result("apply")
    tags = moto.client("stepfunctions").list_tags_for_resource(resourceArn=outputs["state_machine_arn"])["tags"]
    tags = {t["key"]: t["value"] for t in tags}
    expected = {"Environment": "staging", "Repository": "infra", "CostCenter": "cc-42", "ManagedBy": "sfngen"}
    assert expected.items() <= tags.items()


@pytest.mark.last
@pytest.mark.parametrize("example", EXAMPLES)
def test_destroy_leaves_nothing_behind(stacks, example):
    stack, address = EXAMPLES[example]
    result = stacks[stack].destroy().result("destroy")
    resources = result["inventory"].get(address, [])
    assert {kind for kind, _ in resources} >= EXPECTED_TYPES[example]
    # The emulator's list calls found every resource before the destroy, and none after.
    assert len(result["found_before"][address]) == len(resources)
    assert result["leftovers"][address] == []
    assert result["state_list"] == []
