"""One rendered module instantiated twice in one root (`module "dev" { name = "x-dev" }`, `module "prod"`):
both apply on the emulator without a name collision, and each instance's callback role may answer tasks of
its own state machine only (as the policies the emulator holds say)."""

import json

import pytest

from harness import ROOT, render
from tfstack import quick

SPEC = ROOT / "examples" / "seed" / "sfngen.toml"
INSTANCES = {"dev": "x-dev", "prod": "x-prod"}


def prepare(stack):
    module = render(SPEC, stack.dir / "modules" / "callbacks")
    for key, name in INSTANCES.items():
        stack.use_module(key, module, source="callbacks", name=name)
    stack.write_root()


pytestmark = pytest.mark.stack("instances", quick(prepare))


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def role_policies(iam, role_arn: str) -> list:
    role = role_arn.rsplit("/", 1)[1]
    names = iam.list_role_policies(RoleName=role)["PolicyNames"]
    return [iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"] for name in names]


def test_two_instances_apply_side_by_side_each_answering_only_its_own_tasks(stacks, moto):
    pipeline = stacks["instances"]
    try:
        outputs = pipeline.result("apply")
        dev, prod = outputs["dev"], outputs["prod"]
        for key, name in INSTANCES.items():
            assert outputs[key]["state_machine_name"].startswith(name)
            assert outputs[key]["callback_function_name"].startswith(name)
        for output in ("state_machine_arn", "callback_function_name", "callback_role_arn", "state_machine_role_arn",
                       "callback_log_group_name", "state_machine_log_group_name"):
            assert dev[output] != prod[output], output
        assert set(dev["queue_urls"].values()).isdisjoint(prod["queue_urls"].values())
        iam = moto.client("iam")
        for own, other in ((dev, prod), (prod, dev)):
            # The callback's role, and the dead-letter function's, answer (or fail) their own tasks only.
            roles = [own[k] for k in ("callback_role_arn", "dead_letters_role_arn") if k in own]
            assert len(roles) == 2, sorted(own)
            for role in roles:
                documents = role_policies(iam, role)
                statements = [s for document in documents for s in document["Statement"]]
                answering = [s for s in statements if any(a.startswith("states:") for a in as_list(s["Action"]))]
                assert answering, documents
                assert all(as_list(s["Resource"]) == [own["state_machine_arn"]] for s in answering), answering
                assert other["state_machine_arn"] not in json.dumps(documents)
    finally:
        pipeline.destroy()


@pytest.mark.last
def test_both_instances_destroy_cleanly(stacks):
    result = stacks["instances"].destroy().result("destroy")
    assert set(result["inventory"]) == {"module.dev", "module.prod"}
    assert result["state_list"] == []
    assert result["leftovers"] == {"module.dev": [], "module.prod": []}
