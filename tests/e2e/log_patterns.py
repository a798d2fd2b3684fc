"""CloudWatch Logs JSON filter patterns, in the forms the module writes, evaluated on one log line: moto stores a
metric filter but applies none, so the tests hold the pattern it stores against the shipped function's own lines.

`{ TERM }`, a term being `$.FIELD = "VALUE"` (FIELD may name a nested field: `details.error`) or `(TERM)`, terms joined by `&&` or by `||` (never both at one
level without parentheses, which the module never writes)."""

import json
import re

_TEST = re.compile(r'\s*\$\.([\w.]+) = "([^"]*)"')


def matches(pattern: str, line: str) -> bool:
    """Whether the pattern matches one log line (a line that is not a JSON object matches nothing)."""
    body = re.fullmatch(r"\{ (.*) \}", pattern, re.S)
    assert body, f"not a JSON filter pattern: {pattern}"
    try:
        event = json.loads(line)
    except ValueError:
        return False
    if not isinstance(event, dict):
        return False
    matched, rest = _expression(body.group(1), event)
    assert not rest.strip(), f"{pattern}: left over {rest!r}"
    return matched


def _expression(text: str, event: dict):
    matched, rest = _term(text, event)
    joined_by = None
    while True:
        stripped = rest.lstrip()
        op = next((op for op in ("&&", "||") if stripped.startswith(op)), None)
        if op is None:
            return matched, rest
        assert joined_by in (None, op), f"&& and || at one level without parentheses: {text}"
        joined_by = op
        term, rest = _term(stripped[2:], event)
        matched = (matched and term) if op == "&&" else (matched or term)


def _term(text: str, event: dict):
    stripped = text.lstrip()
    if stripped.startswith("("):
        matched, rest = _expression(stripped[1:], event)
        rest = rest.lstrip()
        assert rest.startswith(")"), f"no closing parenthesis in {text}"
        return matched, rest[1:]
    test = _TEST.match(stripped)
    assert test, f'not a $.FIELD = "VALUE" test: {text}'
    field, value = test.groups()
    found = event
    for part in field.split("."):  # $.details.error: a field of a nested object
        found = found.get(part) if isinstance(found, dict) else None
    return found == value, stripped[test.end():]

