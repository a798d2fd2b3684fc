"""The HTTPS callback endpoint end to end (`[callback] endpoint = "hmac" | "iam"`): the real Terraform cycle on the
emulator, then a worker outside AWS answering its task over HTTPS through the endpoint function's URL.

The stack holds two modules of one queue step each: `hmac` (tests/e2e/endpoint/hmac.toml: a webhook signature with
the secret the module creates without a value) and `iam` (endpoint/iam.toml: SigV4). The function URL is played by
a FunctionUrl (tests/e2e/lambda_service.py) in front of the endpoint function's stored package, run with its
configuration and its role's credentials. Under AWS_IAM the FunctionUrl verifies SigV4 itself against credentials
the emulator issued, and IAM's authorization of the caller (lambda:InvokeFunctionUrl and lambda:InvokeFunction
through the URL) against the caller role's policies (tests/e2e/iam_eval.py), as Lambda does before the function runs.

hmac: no secret value yet → 503 for a well-signed request (fails closed), a value under 32 bytes too; then a signed
request answers the task (200) and the execution SUCCEEDS with its output; a wrong signature, a stale timestamp or
none → 401; a body over the largest valid callback event → 413; GET → 405; another path → 404; an invalid event
→ 400 with the callback's typed error; the spent token replayed → 410; the secret's previous version is still accepted
after a rotation. iam: a SigV4 request from a role holding the module's `endpoint_invoke_policy_json` answers the task
and the function logs the caller; unsigned, or from a role without that policy → 403 before the function; an event
without `requestContext.authorizer.iam` (not through an AWS_IAM URL) → 403 from the function. No log line holds the
token, a signature or the secret; every AWS call the function made is one its role allows (recorded on its way to the
emulator, held against the applied policy). Then an empty re-plan and a clean destroy."""

import hashlib
import hmac
import json
import secrets
import time
import uuid
from pathlib import Path

import pytest

from harness import CallbackFunction, module_key, render, wait_until
from iam_eval import decide
from lambda_service import AwsCalls, FunctionUrl, SerialFunction, url_event
from tfstack import lifecycle

HERE = Path(__file__).resolve().parent
HMAC_SPEC, IAM_SPEC = HERE / "endpoint" / "hmac.toml", HERE / "endpoint" / "iam.toml"
HMAC_KEY, IAM_KEY = module_key(HMAC_SPEC), module_key(IAM_SPEC)  # "hmac", "iam"
JSON = {"Content-Type": "application/json"}
# Over the endpoint's largest valid event (the callback event at Step Functions' own limits, about 730 KB), under
# the 6 MB a function URL passes on.
OVERSIZED = 1024 * 1024


def prepare(stack):
    stack.add_module(HMAC_KEY, HMAC_SPEC, render)
    stack.add_module(IAM_KEY, IAM_SPEC, render)
    stack.write_root()


pytestmark = pytest.mark.stack("endpoint", lifecycle(prepare))


@pytest.fixture(scope="module")
def applied(stacks):
    return stacks["endpoint"].result("apply")


class Endpoint:
    """A module's endpoint as a worker outside AWS reaches it: its function behind its URL."""

    def __init__(self, moto, outputs: dict, allowed=None):
        self.moto = moto
        self.outputs = outputs
        # The function reaches the emulator through a recorder of its calls (moto enforces no IAM).
        self.calls = AwsCalls(moto.endpoint)
        self.function = CallbackFunction.deployed(moto, outputs["endpoint_function_name"], self.calls.endpoint)
        try:
            self.url = FunctionUrl.deployed(
                moto, SerialFunction(self.function), outputs["endpoint_function_name"], allowed
            )
        except BaseException:
            self.function.stop()
            self.calls.stop()
            raise
        assert self.url.url == outputs["callback_endpoint_url"], (self.url.url, outputs["callback_endpoint_url"])

    def stop(self):
        self.url.stop()
        self.function.stop()
        self.calls.stop()

    def refused_calls(self) -> tuple:
        """(the IAM actions of the function's AWS calls so far, those its role's policies do not allow)."""
        iam = self.moto.client("iam")
        config = self.function.configuration
        role = config["Role"].rsplit("/", 1)[1]
        policies = [iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
                    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]]
        policies = [json.loads(p) if isinstance(p, str) else p for p in policies]
        calls = self.calls.calls(config["FunctionArn"], self.outputs["state_machine_arn"])
        refused = sorted({c.describe() for c in calls if not any(decide(p, c).allowed for p in policies)})
        return {call.action for call in calls}, refused

    def task(self, payload: dict) -> tuple:
        """Starts an execution; (execution ARN, the token its Task sent to the jobs queue)."""
        sfn, sqs = self.moto.client("stepfunctions"), self.moto.client("sqs")
        execution = sfn.start_execution(
            stateMachineArn=self.outputs["state_machine_arn"], name=f"w-{uuid.uuid4().hex[:10]}",
            input=json.dumps(payload),
        )["executionArn"]
        url = self.outputs["queue_urls"]["jobs"]

        def one():
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1).get("Messages", [])
            return got[0] if got else None

        message = wait_until(one, 30, "the task message")
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        body = json.loads(message["Body"])
        assert body["context"]["execution"] == execution
        return execution, body["token"]

    def status(self, execution: str) -> dict:
        return self.moto.client("stepfunctions").describe_execution(executionArn=execution)

    def wait_for_end(self, execution: str) -> dict:
        return wait_until(lambda: (d := self.status(execution))["status"] != "RUNNING" and d, 30, "the execution")

    def log_lines(self) -> list:
        return [json.loads(line) for line in self.function.logs().splitlines() if line.startswith("{")]


def signature(secret: str, body: bytes, at: int | None = None) -> str:
    """x-sfngen-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>."""
    t = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def error_of(response: tuple) -> str:
    return json.loads(response[2])["error"]


@pytest.fixture(scope="module")
def hmac_endpoint(moto, applied):
    side = Endpoint(moto, applied[HMAC_KEY])
    yield side
    side.stop()


def test_the_hmac_endpoint_is_a_public_url_with_a_secret_without_value(moto, applied, hmac_endpoint):
    outputs = applied[HMAC_KEY]
    assert hmac_endpoint.url.auth_type == "NONE"
    config = hmac_endpoint.function.configuration
    # A public URL is throttled: callback.endpoint_reserved_concurrency, 10 by default.
    concurrency = moto.client("lambda").get_function_concurrency(FunctionName=config["FunctionName"])
    assert concurrency["ReservedConcurrentExecutions"] == 10, concurrency
    env = config["Environment"]["Variables"]
    assert (env["SFNGEN_MODE"], env["SFNGEN_ENDPOINT_AUTH"]) == ("endpoint", "hmac")
    assert env["SFNGEN_HMAC_SECRET_ARN"] == outputs["endpoint_secret_arn"]
    secret = moto.client("secretsmanager").describe_secret(SecretId=outputs["endpoint_secret_arn"])
    assert secret["Name"] == "e2e-endpoint-hmac-endpoint-hmac"
    assert not secret.get("VersionIdsToStages"), secret  # no value: Terraform never holds it


def test_hmac_signed_requests_answer_the_task_and_everything_else_is_refused(moto, applied, hmac_endpoint):
    endpoint, url = hmac_endpoint, hmac_endpoint.url
    secret_arn = applied[HMAC_KEY]["endpoint_secret_arn"]
    manager = moto.client("secretsmanager")
    execution, token = endpoint.task({"job": 1})
    body = json.dumps({"token": token, "output": {"shipped": True, "by": "partner"}}).encode()
    key = secrets.token_hex(32)

    # Fails closed: no value yet, then a value too short to be a key.
    response = url.request("POST", "/", body, {**JSON, "x-sfngen-signature": signature(key, body)})
    assert (response[0], error_of(response)) == (503, "SecretUnavailable"), response
    manager.put_secret_value(SecretId=secret_arn, SecretString="too-short")
    response = url.request("POST", "/", body, {**JSON, "x-sfngen-signature": signature("too-short", body)})
    assert (response[0], error_of(response)) == (503, "SecretUnavailable"), response
    manager.put_secret_value(SecretId=secret_arn, SecretString=key)

    # Refused before anything is answered. Each signature is made when its request is sent (a slow machine must not
    # age one into the window), a minute past the 5-minute replay window either way for the stale ones.
    other_key = secrets.token_hex(32)
    refused = {
        "wrong key": (401, "POST", "/", lambda: body,
                      lambda: {**JSON, "x-sfngen-signature": signature(other_key, body)}),
        "body changed": (401, "POST", "/", lambda: body.replace(b"partner", b"mallory"),
                         lambda: {**JSON, "x-sfngen-signature": signature(key, body)}),
        "stale": (401, "POST", "/", lambda: body,
                  lambda: {**JSON, "x-sfngen-signature": signature(key, body, int(time.time()) - 360)}),
        "from the future": (401, "POST", "/", lambda: body,
                            lambda: {**JSON, "x-sfngen-signature": signature(key, body, int(time.time()) + 360)}),
        "unsigned": (401, "POST", "/", lambda: body, lambda: JSON),
        "malformed": (401, "POST", "/", lambda: body, lambda: {**JSON, "x-sfngen-signature": "v1=zz"}),
        "oversized": (413, "POST", "/", lambda: b"{" + b" " * OVERSIZED + b"}", lambda: JSON),
        "GET": (405, "GET", "/", lambda: b"", dict),
        "PUT": (405, "PUT", "/", lambda: body, lambda: {**JSON, "x-sfngen-signature": signature(key, body)}),
        "other path": (404, "POST", "/answer", lambda: body,
                       lambda: {**JSON, "x-sfngen-signature": signature(key, body)}),
    }
    for what, (status, method, target, data, headers) in refused.items():
        response = url.request(method, target, data(), headers())
        assert response[0] == status, (what, response)
        assert set(json.loads(response[2])) == {"error", "message"}, (what, response)
    assert endpoint.status(execution)["status"] == "RUNNING"

    # Signed, a body that is no callback event: the callback's own typed error.
    invalid = json.dumps({"status": "success"}).encode()
    response = url.request("POST", "/", invalid, {**JSON, "x-sfngen-signature": signature(key, invalid)})
    assert (response[0], error_of(response)) == (400, "InvalidEvent"), response

    # Signed: the task is answered, the execution goes on with the output.
    response = url.request("POST", "/", body, {**JSON, "x-sfngen-signature": signature(key, body)})
    assert response[0] == 200, response
    done = endpoint.wait_for_end(execution)
    assert (done["status"], json.loads(done["output"])) == ("SUCCEEDED", {"shipped": True, "by": "partner"}), done
    # The same request again (inside the window: a replay): the token is spent.
    response = url.request("POST", "/", body, {**JSON, "x-sfngen-signature": signature(key, body)})
    assert response[0] == 410, response

    # What the function asked of AWS is what its role allows: the secret's versions, the task's answer.
    actions, refused = endpoint.refused_calls()
    assert actions >= {"secretsmanager:GetSecretValue", "states:SendTaskSuccess"} and refused == [], (actions, refused)

    lines = [line for line in endpoint.log_lines() if line.get("event") == "endpoint"]
    assert {line.get("auth") for line in lines} == {"hmac"}, lines
    assert any(line.get("http_status") == 503 for line in lines), lines
    logs = endpoint.function.logs()
    assert token not in logs and key not in logs and "too-short" not in logs
    assert signature(key, body).split("v1=")[1][:16] not in logs


def test_hmac_the_previous_secret_still_verifies_after_a_rotation(moto, applied):
    """After `put-secret-value` with a new key, senders still signing with the old one (AWSPREVIOUS) are accepted
    while they move over. A new function process: the running one keeps the secret it read for 5 minutes."""
    manager = moto.client("secretsmanager")
    secret_arn = applied[HMAC_KEY]["endpoint_secret_arn"]
    old = manager.get_secret_value(SecretId=secret_arn)["SecretString"]
    assert len(old) >= 32, "the test above puts the key"
    manager.put_secret_value(SecretId=secret_arn, SecretString=secrets.token_hex(32))
    endpoint = Endpoint(moto, applied[HMAC_KEY])
    try:
        execution, token = endpoint.task({"job": 2})
        body = json.dumps({"token": token, "output": {"rotated": True}}).encode()
        response = endpoint.url.request("POST", "/", body, {**JSON, "x-sfngen-signature": signature(old, body)})
        assert response[0] == 200, response
        assert endpoint.wait_for_end(execution)["status"] == "SUCCEEDED"
    finally:
        endpoint.stop()


@pytest.fixture(scope="module")
def iam_endpoint(moto, applied):
    iam = moto.client("iam")

    def allowed(call, identity) -> bool:
        """IAM's decision for the caller: the identity policies of the role it assumed."""
        role = identity["Arn"].split(":assumed-role/", 1)[1].split("/", 1)[0]
        policies = [iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
                    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]]
        return any(decide(json.loads(p) if isinstance(p, str) else p, call).allowed for p in policies)

    side = Endpoint(moto, applied[IAM_KEY], allowed)
    yield side
    side.stop()


def caller(moto, name: str, policy: dict | None) -> dict:
    """Credentials of a role (created here, with `policy` inline when given) that a partner's worker assumes."""
    iam = moto.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                     "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    if policy is not None:
        iam.put_role_policy(RoleName=name, PolicyName="endpoint", PolicyDocument=json.dumps(policy))
    return moto.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="worker")["Credentials"]


def test_iam_a_sigv4_request_from_an_allowed_role_answers_the_task(moto, applied, iam_endpoint):
    endpoint, url = iam_endpoint, iam_endpoint.url
    assert url.auth_type == "AWS_IAM"
    policy = json.loads(applied[IAM_KEY]["endpoint_invoke_policy_json"])
    allowed = caller(moto, "e2e-endpoint-partner", policy)
    stranger = caller(moto, "e2e-endpoint-stranger", None)
    identity = url.trust(allowed)
    url.trust(stranger)
    execution, token = endpoint.task({"job": 3})
    body = json.dumps({"token": token, "output": {"signed": "sigv4"}}).encode()

    # Refused by the URL before the function runs: unsigned, and a role without the invoke policy.
    for what, sign in {"unsigned": None, "stranger": stranger}.items():
        calls = len([e for e in url.exchanges if e["event"] is not None])
        response = url.request("POST", "/", body, JSON, sign=sign)
        assert (response[0], json.loads(response[2])) == (403, {"Message": "Forbidden"}), (what, response)
        assert len([e for e in url.exchanges if e["event"] is not None]) == calls, what
    assert endpoint.status(execution)["status"] == "RUNNING"

    response = url.request("POST", "/", body, JSON, sign=allowed)
    assert response[0] == 200, response
    done = endpoint.wait_for_end(execution)
    assert (done["status"], json.loads(done["output"])) == ("SUCCEEDED", {"signed": "sigv4"}), done
    actions, refused = endpoint.refused_calls()
    assert "states:SendTaskSuccess" in actions and refused == [], (actions, refused)
    answered = [line for line in endpoint.log_lines() if line.get("event") == "endpoint" and line.get("auth") == "iam"]
    assert identity["Arn"] in {line.get("caller") for line in answered}, answered
    assert token not in endpoint.function.logs() and allowed["SecretAccessKey"] not in endpoint.function.logs()


def test_iam_an_event_that_did_not_come_through_an_iam_url_is_refused(iam_endpoint):
    """A function URL with NONE auth (or a direct invocation) carries no requestContext.authorizer.iam: the
    function refuses it rather than trust a caller AWS did not authenticate."""
    event = url_event("POST", "/", [("Content-Type", "application/json")], b'{"token": "x", "status": "success"}',
                      "198.51.100.7", iam_endpoint.url.host)
    kind, result = iam_endpoint.function.invoke(event)
    assert kind == "response" and result["statusCode"] == 403, result


def test_the_applied_endpoints_plan_no_change(stacks):
    code, plan = stacks["endpoint"].result("drift")
    assert code == 0, json.dumps(plan, indent=1)[:4000] if plan else code


@pytest.mark.last
def test_destroy_leaves_nothing(stacks):
    done = stacks["endpoint"].destroy().result("destroy")
    assert done["state_list"] == [], done["state_list"]
    assert all(not left for left in done["leftovers"].values()), done["leftovers"]
