"""A small IAM policy evaluator for the tests: the emulator enforces no IAM, so a test records each AWS call
its client makes (action and resource, and the request context a condition reads) and asks whether a policy
document allows it.

It covers what the module's policies use and refuses the rest rather than guess: `Allow` statements with
`Action` and `Resource` (a string or a list; `*` and `?` wildcards, actions case-insensitive, resources
case-sensitive, as IAM matches them) and the condition operators StringEquals, StringLike, ArnEquals,
ArnLike and Bool (every key of a block must be in the context and match one of its values). A `Deny`, `NotAction`,
`NotResource`, `NotPrincipal` or any other operator raises `Unsupported`. Bool compares "true"/"false" as IAM does
(case-insensitively). With Allow statements only, a call
is allowed exactly when one statement matches it: the implicit deny covers everything else.
"""

import re
from dataclasses import dataclass, field

OPERATORS = {"StringEquals", "StringLike", "ArnEquals", "ArnLike", "Bool"}


class Unsupported(Exception):
    """The policy uses something this evaluator does not model."""


@dataclass(frozen=True)
class Call:
    """One AWS request as IAM authorizes it."""

    action: str
    resource: str
    context: tuple = ()  # ((condition key, value), ...)

    def describe(self) -> str:
        extra = "".join(f" {k}={v}" for k, v in self.context)
        return f"{self.action} on {self.resource}{extra}"


@dataclass
class Decision:
    """Whether a call is allowed, by which statement, and the conditions that statement checked."""

    allowed: bool
    sid: str = ""
    conditions: list = field(default_factory=list)


# API operations whose IAM action has another name (the batch calls are authorized as their single call).
ACTIONS = {
    ("lambda", "Invoke"): "lambda:InvokeFunction",
    ("sqs", "DeleteMessageBatch"): "sqs:DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "sqs:ChangeMessageVisibility",
    ("sqs", "SendMessageBatch"): "sqs:SendMessage",
}


def action_of(service: str, operation: str) -> str:
    """The IAM action that authorizes an API operation: `sqs:ReceiveMessage`, `lambda:InvokeFunction`."""
    return ACTIONS.get((service, operation), f"{service}:{operation}")


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, text: str, ignore_case: bool) -> bool:
    """IAM's wildcards: `*` any run of characters (`/` and `:` included), `?` one; nothing else is special."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.IGNORECASE if ignore_case else 0) is not None


def _condition_holds(operator: str, key: str, values, context: dict) -> bool:
    if key not in context:
        return False
    have = context[key]
    if operator in ("StringEquals", "ArnEquals"):
        return have in _listed(values)
    if operator == "Bool":
        return str(have).lower() in [str(v).lower() for v in _listed(values)]
    return any(_glob(v, have, ignore_case=False) for v in _listed(values))


def decide(policy: dict, call: Call) -> Decision:
    """The decision of an identity policy on one call."""
    context = dict(call.context)
    for statement in _listed(policy.get("Statement", [])):
        unknown = set(statement) - {"Sid", "Effect", "Action", "Resource", "Condition"}
        if unknown or statement.get("Effect") != "Allow":
            raise Unsupported(f"statement {statement.get('Sid')!r}: {sorted(unknown) or statement.get('Effect')}")
        if not any(_glob(a, call.action, ignore_case=True) for a in _listed(statement["Action"])):
            continue
        if not any(_glob(r, call.resource, ignore_case=False) for r in _listed(statement["Resource"])):
            continue
        checked = []
        holds = True
        for operator, block in statement.get("Condition", {}).items():
            if operator not in OPERATORS:
                raise Unsupported(f"condition operator {operator}")
            for key, values in block.items():
                checked.append((operator, key, tuple(_listed(values))))
                holds = holds and _condition_holds(operator, key, values, context)
        if holds:
            return Decision(True, statement.get("Sid", ""), checked)
    return Decision(False)


def denied(policy: dict, calls) -> list:
    """The calls the policy does not allow, described."""
    return [call.describe() for call in calls if not decide(policy, call).allowed]
