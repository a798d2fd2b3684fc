"""Human approval end to end: an approval step (`approval = true`) through the real Terraform cycle on the emulator, and
a person's browser (headless Chromium) deciding it through the page function's URL.

The stack holds two modules: `approval` (tests/e2e/approval/sfngen.toml: the notification on an SNS topic, the
step's timeout 1 hour) and `short` (approval/short.toml: on an SQS queue, links that expire after 20 seconds). The
test's root subscribes an SQS queue to the topic: the approver's inbox, which gets what an email subscription gets
(the subject and the message holding the link).

Lambda's side is played as the other e2e tests play it (tests/e2e/lambda_service.py): the approvals queue's event
source mapping by an SqsPoller into the `approval_notify` function, the page function's URL by a FunctionUrl (HTTPS
on loopback; Chromium resolves the URL's host there and trusts that one certificate). Each function is the package
the emulator stored, run with its configuration and its role's credentials.

What is checked: the notification holds a link (id, expiry, MAC) and never the token; the page shows the step and
the input (escaped), with the headers that keep it out of caches, frames and referrers, and no script; GET alone
changes nothing (the item stays pending with its token, the execution RUNNING); Approve with a comment → the
execution SUCCEEDS with its input and the decision under "approval" as its output and the item records who and when,
its token removed; the same link again → "already decided"; a changed MAC, id or expiry → refused; malformed → 400;
an expired link → "expired", and so is a decision reaching a task that is over; Reject → the execution FAILS with
sfngen.ApprovalRejected (and an input holding markup is shown as text). The token is in no page, no URL and no log
line of the functions; every AWS call the two functions made is one their roles allow.
Screenshots of the confirmation, approved, refused (tampered) and expired pages are taken (approval-page.png,
approval-approved.png, approval-refused.png, approval-expired.png; SFNGEN_E2E_SCREENSHOTS=DIR keeps them there,
templates/approval/ holds the committed ones). Then an empty re-plan and a clean destroy."""

import datetime
import json
import os
import re
import struct
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from browser import Chromium
from harness import CallbackFunction, module_key, render, wait_until
from iam_eval import decide
from lambda_service import AwsCalls, FunctionUrl, SerialFunction, SqsPoller
from tfstack import lifecycle

HERE = Path(__file__).resolve().parent
SPEC = HERE / "approval" / "sfngen.toml"
SHORT = HERE / "approval" / "short.toml"
KEY, SHORT_KEY = module_key(SPEC), module_key(SHORT)  # "approval", "short"
NAME, SHORT_NAME = "e2e-approval", "e2e-approval-short"
INBOX = "e2e-approval-inbox"

ROOT = f"""
# The approver's inbox: an SQS queue subscribed to the module's topic without raw delivery, so that each message is
# SNS's notification (Subject, Message), what an email subscription delivers.
resource "aws_sqs_queue" "inbox" {{
  name                    = "{INBOX}"
  sqs_managed_sse_enabled = true
}}

resource "aws_sns_topic_subscription" "inbox" {{
  topic_arn = module.{KEY}.topic_arns["inbox"]
  protocol  = "sqs"
  endpoint  = aws_sqs_queue.inbox.arn
}}
"""

# The headers every page carries (the contract's list).
PAGE_HEADERS = {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
}
# What the approver sees on the page (and in the module README's screenshots).
INPUT = {"order": 1042, "customer": "ACME Corp", "lines": 3, "total": "1250.00 EUR"}
# An input carrying markup: the page must show it as text.
HOSTILE = {"order": 1043, "customer": "ACME <script>alert('x')</script><img src=x onerror=alert(1)>"}
LINK = re.compile(r"https://[^\s]+")


def prepare(stack):
    stack.add_module(KEY, SPEC, render)
    stack.add_module(SHORT_KEY, SHORT, render)
    stack.write_root()
    (stack.dir / "inbox.tf").write_text(ROOT)


pytestmark = pytest.mark.stack("approval", lifecycle(prepare))

# Every token the state machine handed over in this module's tests, and every page the browser was served: the
# last test looks for the first in the second, in the links and in the functions' logs.
SEEN = {"tokens": [], "macs": [], "links": []}


@pytest.fixture(scope="module")
def screenshots():
    kept = os.environ.get("SFNGEN_E2E_SCREENSHOTS")
    if kept:
        folder = Path(kept)
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix="sfngen-approval-shots-") as folder:
        yield Path(folder)


class Approvals:
    """One module's approval side as Lambda would run it: the notifier behind its queue's mapping, the page behind
    its URL, a browser that reaches that URL."""

    def __init__(self, moto, outputs: dict, name: str):
        self.moto = moto
        self.outputs = outputs
        self.name = name
        self.sfn = moto.client("stepfunctions")
        self.dynamodb = moto.client("dynamodb")
        self.started = []
        try:
            # Each function reaches the emulator through a recorder of its calls (moto enforces no IAM).
            self.notify_calls, self.page_calls = AwsCalls(moto.endpoint), AwsCalls(moto.endpoint)
            self.started += [self.notify_calls, self.page_calls]
            self.notify = CallbackFunction.deployed(moto, f"{name}-approval-notify", self.notify_calls.endpoint)
            self.started.append(self.notify)
            self.page = CallbackFunction.deployed(moto, f"{name}-approval-page", self.page_calls.endpoint)
            self.started.append(self.page)
            mappings = moto.client("lambda").list_event_source_mappings(
                FunctionName=self.notify.configuration["FunctionArn"]
            )["EventSourceMappings"]
            queue_arn = moto.client("sqs").get_queue_attributes(
                QueueUrl=outputs["approvals_queue_url"], AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
            [mapping] = [m for m in mappings if m["EventSourceArn"] == queue_arn]
            assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"], mapping
            role = moto.client("sts").assume_role(RoleArn=self.notify.configuration["Role"], RoleSessionName="poller")
            self.poller = SqsPoller(moto, SerialFunction(self.notify), mapping["UUID"], role["Credentials"])
            self.url = FunctionUrl.deployed(moto, SerialFunction(self.page), f"{name}-approval-page")
            self.started.append(self.url)
            self.browser = Chromium(host_rules=self.url.host_rules, trusted_spki=(self.url.spki,))
            self.started.append(self.browser)
        except BaseException:
            self.stop()
            raise

    def stop(self):
        for thing in reversed(self.started):
            thing.close() if isinstance(thing, Chromium) else thing.stop()

    def start(self, payload: dict) -> str:
        return self.sfn.start_execution(
            stateMachineArn=self.outputs["state_machine_arn"], name=f"order-{uuid.uuid4().hex[:8]}",
            input=json.dumps(payload),
        )["executionArn"]

    def status(self, execution: str) -> dict:
        return self.sfn.describe_execution(executionArn=execution)

    def wait_for_end(self, execution: str, timeout: float = 60) -> dict:
        return wait_until(lambda: (d := self.status(execution))["status"] != "RUNNING" and d, timeout,
                          f"execution {execution} to end")

    def notify_once(self, timeout: float = 60) -> dict:
        """Plays the mapping until the notifier handled one batch; returns the request the state machine queued
        (its body: input, token, context, approval) and records its token."""
        before = len(self.poller.rounds)
        deadline = time.monotonic() + timeout
        while len(self.poller.rounds) == before:
            assert time.monotonic() < deadline, "the approvals queue got no request"
            self.poller.poll_once(wait_seconds=1)
        records, kind, answer, deleted = self.poller.rounds[-1]
        assert kind == "response" and answer == {"batchItemFailures": []}, (kind, answer, self.notify.logs())
        assert len(records) == 1 and deleted == [records[0]["messageId"]], records
        request = json.loads(records[0]["body"])
        SEEN["tokens"].append(request["token"])
        return request

    def item(self, approval_id: str) -> dict:
        return self.dynamodb.get_item(
            TableName=self.outputs["approval_table_name"], Key={"id": {"S": approval_id}}, ConsistentRead=True
        ).get("Item")

    def open(self, link: str) -> dict:
        """The browser opens a link; returns the document's response (status, headers as the browser saw them)."""
        return self.browser.goto(link)

    def outcome(self) -> str:
        return self.browser.attribute("#outcome", "data-outcome")


@pytest.fixture(scope="module")
def applied(stacks):
    return stacks["approval"].result("apply")


@pytest.fixture(scope="module")
def approvals(moto, applied):
    side = Approvals(moto, applied[KEY], NAME)
    yield side
    side.stop()


@pytest.fixture(scope="module")
def short(moto, applied):
    side = Approvals(moto, applied[SHORT_KEY], SHORT_NAME)
    yield side
    side.stop()


def receive(moto, queue_url: str, timeout: float = 30) -> dict:
    sqs = moto.client("sqs")

    def one():
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=1).get("Messages", [])
        return got[0] if got else None

    message = wait_until(one, timeout, f"a message on {queue_url}")
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return message


def email(moto) -> tuple:
    """(subject, message, link) of the next notification in the inbox."""
    url = moto.client("sqs").get_queue_url(QueueName=INBOX)["QueueUrl"]
    envelope = json.loads(receive(moto, url)["Body"])
    assert envelope["Type"] == "Notification", envelope
    links = LINK.findall(envelope["Message"])
    assert len(links) == 1, envelope["Message"]
    SEEN["links"].append(links[0])
    SEEN["macs"].append(parse_qs(urlsplit(links[0]).query).get("mac", [""])[0])
    return envelope.get("Subject"), envelope["Message"], links[0]


def link_parts(link: str) -> dict:
    query = parse_qs(urlsplit(link).query, keep_blank_values=True)
    return {key: values[0] for key, values in query.items()}


def with_query(link: str, **changes) -> str:
    parts = {**link_parts(link), **changes}
    return link.split("?", 1)[0] + "?" + urlencode({k: v for k, v in parts.items() if v is not None})


def assert_page_headers(response: dict):
    headers = {k.lower(): v for k, v in response["headers"].items()}
    wrong = {k: headers.get(k) for k, v in PAGE_HEADERS.items() if headers.get(k) != v}
    assert wrong == {}, headers


def assert_png(path: Path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 600 and height >= 100, (path, width, height)


def test_the_approval_resources_are_the_modules(moto, applied):
    outputs = applied[KEY]
    assert outputs["approval_table_name"] == "e2e-approval-approvals"
    assert outputs["approval_page_url"].startswith("https://") and outputs["approval_page_url"].endswith(
        ".lambda-url.us-east-1.on.aws/"
    )
    table = moto.client("dynamodb").describe_table(TableName=outputs["approval_table_name"])["Table"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    ttl = moto.client("dynamodb").describe_time_to_live(TableName=outputs["approval_table_name"])
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    key = moto.client("kms").describe_key(KeyId=f"alias/{NAME}-approval-links")["KeyMetadata"]
    assert (key["KeySpec"], key["KeyUsage"]) == ("HMAC_256", "GENERATE_VERIFY_MAC")
    url = moto.client("lambda").get_function_url_config(FunctionName=f"{NAME}-approval-page")
    assert url["AuthType"] == "NONE" and url["FunctionUrl"] == outputs["approval_page_url"]


def test_approve_in_the_browser_and_the_execution_moves_on(approvals, moto, screenshots):
    execution = approvals.start(INPUT)
    request = approvals.notify_once()
    assert request["input"] == INPUT and request["context"]["state"] == "ManagerApproval"
    assert request["approval"]["channel"] == "topic" and request["approval"]["timeout_seconds"] == 3600

    # The inbox: the subject names the step; the message holds one link to the page, and neither holds the token
    # or the input.
    subject, message, link = email(moto)
    assert subject == "Approval requested: ManagerApproval"
    assert request["token"] not in subject + message and "ACME Corp" not in message
    assert link.startswith(approvals.outputs["approval_page_url"] + "?id=")
    parts = link_parts(link)
    assert set(parts) == {"id", "exp", "mac"} and re.fullmatch(r"[A-Za-z0-9_-]{22}", parts["id"]), parts
    assert abs(int(parts["exp"]) - (time.time() + 3600)) < 300, parts
    assert re.fullmatch(r"[A-Za-z0-9_-]+", parts["mac"]), parts
    # The token is kept server-side under the link's id, pending, expiring with the link.
    item = approvals.item(parts["id"])
    assert item["status"] == {"S": "pending"} and item["token"] == {"S": request["token"]}
    assert item["expires_at"] == {"N": parts["exp"]} and item["execution"]["S"] == execution
    assert item["state"] == {"S": "ManagerApproval"}

    # GET: the confirmation page.
    response = approvals.open(link)
    assert response["status"] == 200, approvals.browser.html()
    assert_page_headers(response)
    assert approvals.outcome() == "page"
    html = approvals.browser.html()
    assert "ManagerApproval" in html and execution.rsplit(":", 1)[1] in html and "ACME Corp" in html
    assert approvals.browser.evaluate("document.scripts.length") == 0
    assert approvals.browser.evaluate("!!document.querySelector('#approve') && !!document.querySelector('#reject')")
    approvals.browser.screenshot(screenshots / "approval-page.png")
    assert_png(screenshots / "approval-page.png")

    # GET alone changes nothing: the item is as it was (token and all), the execution still waits. A second GET
    # (a mail scanner following the link) neither.
    assert approvals.open(link)["status"] == 200
    assert approvals.item(parts["id"]) == item
    assert approvals.status(execution)["status"] == "RUNNING"

    # Approve with a comment: the browser posts the form to the same URL.
    comment = "Checked the order with the customer: fine."
    approvals.browser.fill("#comment", comment)
    response = approvals.browser.click("#approve")
    assert response["status"] == 200, approvals.browser.html()
    assert_page_headers(response)
    assert approvals.outcome() == "approved"
    approvals.browser.screenshot(screenshots / "approval-approved.png")
    assert_png(screenshots / "approval-approved.png")
    post = [r for r in approvals.browser.requests if r["method"] == "POST"][-1]
    assert post["url"] == link and "decision=approve" in post.get("postData", "")

    done = approvals.wait_for_end(execution)
    assert done["status"] == "SUCCEEDED", done
    # The step keeps its input and adds the decision under "approval" (its ResultPath).
    output = json.loads(done["output"])
    decision = output.pop("approval")
    assert output == INPUT, output
    user_agent = approvals.browser.evaluate("navigator.userAgent")
    assert decision["approved"] is True and decision["approval_id"] == parts["id"], decision
    assert decision["comment"] == comment, decision
    assert decision["decided_by"] == {"source_ip": "127.0.0.1", "user_agent": user_agent}, decision
    assert datetime.datetime.fromisoformat(decision["decided_at"].replace("Z", "+00:00")).tzinfo is not None

    # The item records the decision; the token went with the write that decided.
    decided = approvals.item(parts["id"])
    assert decided["status"] == {"S": "approved"} and "token" not in decided, decided
    assert decided["comment"] == {"S": comment} and "decided_at" in decided and "decided_by" in decided

    # The same link again: "already decided", for a GET and for a replayed POST; the execution's output stays.
    response = approvals.open(link)
    assert (response["status"], approvals.outcome()) == (409, "decided"), approvals.browser.html()
    assert "approved" in approvals.browser.text("#outcome").lower()
    replay = approvals.url.request(
        "POST", urlsplit(link).path + "?" + urlsplit(link).query, urlencode({"decision": "reject"}).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert replay[0] == 409, replay
    assert approvals.status(execution)["output"] == done["output"]


def test_tampered_and_malformed_links_are_refused_and_change_nothing(approvals, moto, screenshots):
    execution = approvals.start({"order": 7})
    approvals.notify_once()
    link = email(moto)[2]
    parts = link_parts(link)
    item = approvals.item(parts["id"])
    flipped = parts["mac"][:-2] + ("A" if parts["mac"][-2] != "A" else "B") + parts["mac"][-1]
    other_id = ("B" if parts["id"][0] != "B" else "C") + parts["id"][1:]
    for what, tampered in {
        "mac": with_query(link, mac=flipped),
        "id": with_query(link, id=other_id),
        "expiry pushed back": with_query(link, exp=str(int(parts["exp"]) + 86400)),
    }.items():
        response = approvals.open(tampered)
        assert (response["status"], approvals.outcome()) == (403, "invalid"), (what, approvals.browser.html())
        assert_page_headers(response)
        if what == "mac":
            approvals.browser.screenshot(screenshots / "approval-refused.png")
            assert_png(screenshots / "approval-refused.png")
        # A POST with the tampered link decides nothing either.
        status = approvals.url.request(
            "POST", "/?" + urlsplit(tampered).query, b"decision=approve&comment=",
            {"Content-Type": "application/x-www-form-urlencoded"},
        )[0]
        assert status == 403, what
    for what, malformed in {
        "no mac": with_query(link, mac=None),
        "exp not a number": with_query(link, exp="soon"),
        "id too short": with_query(link, id="abc"),
    }.items():
        response = approvals.open(malformed)
        assert (response["status"], approvals.outcome()) == (400, "malformed"), (what, approvals.browser.html())
    assert approvals.item(parts["id"]) == item
    assert approvals.status(execution)["status"] == "RUNNING"
    moto.client("stepfunctions").stop_execution(executionArn=execution)


def test_reject_fails_the_execution_with_approval_rejected(approvals, moto):
    execution = approvals.start(HOSTILE)
    approvals.notify_once()
    link = email(moto)[2]
    assert approvals.open(link)["status"] == 200
    # The input's markup is text on the page: no element came of it, and the page has no script at all.
    html = approvals.browser.html()
    assert "&lt;script&gt;alert('x')&lt;/script&gt;&lt;img" in html, html
    assert approvals.browser.evaluate("document.scripts.length + document.images.length") == 0
    approvals.browser.fill("#comment", "Out of budget.")
    response = approvals.browser.click("#reject")
    assert (response["status"], approvals.outcome()) == (200, "rejected"), approvals.browser.html()
    done = approvals.wait_for_end(execution)
    assert (done["status"], done.get("error")) == ("FAILED", "sfngen.ApprovalRejected"), done
    if done.get("cause"):  # moto 5.2.5 drops SendTaskFailure's cause; AWS records it
        cause = json.loads(done["cause"])
        assert cause["approved"] is False and cause["comment"] == "Out of budget.", cause
    item = approvals.item(link_parts(link)["id"])
    assert item["status"] == {"S": "rejected"} and "token" not in item
    response = approvals.open(link)
    assert (response["status"], approvals.outcome()) == (409, "decided")
    assert "rejected" in approvals.browser.text("#outcome").lower()


def test_a_decision_after_the_task_is_over_gets_the_expired_page(approvals, moto):
    """The execution stopped while the link was open: Approve takes the token from the item, Step Functions
    refuses it (the task is over), and the page says the request expired; the execution stays stopped."""
    execution = approvals.start({"order": 9})
    approvals.notify_once()
    link = email(moto)[2]
    assert approvals.open(link)["status"] == 200
    moto.client("stepfunctions").stop_execution(executionArn=execution, error="e2e.Stopped")
    assert approvals.wait_for_end(execution)["status"] == "ABORTED"
    response = approvals.browser.click("#approve")
    assert (response["status"], approvals.outcome()) == (410, "expired"), approvals.browser.html()
    assert approvals.status(execution)["status"] == "ABORTED"


def test_a_request_the_notifier_never_handled_fails_its_task_at_once(approvals, moto):
    """A request the notifier failed on every receive goes to the approvals dead-letter queue (its redrive
    policy); the dead-letter function's mapping on that queue fails the task with sfngen.DeadLettered, so the
    execution does not wait out the step's hour. The emulator runs no redrive here (no mapping invokes the
    notifier), so the request is moved by the test, as SQS moves it."""
    outputs = approvals.outputs
    reader = CallbackFunction.deployed(moto, outputs["dead_letters_function_name"])
    try:
        execution = approvals.start({"order": 10})
        request = receive(moto, outputs["approvals_queue_url"])["Body"]
        SEEN["tokens"].append(json.loads(request)["token"])
        moto.client("sqs").send_message(QueueUrl=outputs["approvals_dead_letter_queue_url"], MessageBody=request)
        dlq_arn = moto.client("sqs").get_queue_attributes(
            QueueUrl=outputs["approvals_dead_letter_queue_url"], AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        mappings = moto.client("lambda").list_event_source_mappings(
            FunctionName=reader.configuration["FunctionArn"]
        )["EventSourceMappings"]
        [mapping] = [m for m in mappings if m["EventSourceArn"] == dlq_arn]
        role = moto.client("sts").assume_role(RoleArn=reader.configuration["Role"], RoleSessionName="poller")
        poller = SqsPoller(moto, SerialFunction(reader), mapping["UUID"], role["Credentials"]).start()
        try:
            done = approvals.wait_for_end(execution)
        finally:
            poller.stop()
        assert (done["status"], done.get("error")) == ("FAILED", "sfngen.DeadLettered"), (done, reader.logs())
        assert json.loads(request)["token"] not in reader.logs()
    finally:
        reader.stop()


def test_an_expired_link_shows_the_expired_page(short, moto, screenshots):
    execution = short.start({"ticket": 99})
    request = short.notify_once()
    assert request["approval"]["channel"] == "queue" and request["approval"]["timeout_seconds"] == 20
    # The queue channel: the notification is JSON for a program, the link and when it expires; no token.
    body = receive(moto, short.outputs["queue_urls"]["reviews"])["Body"]
    assert request["token"] not in body
    notice = json.loads(body)["approval"]
    assert set(notice) == {"id", "url", "expires_at", "state", "execution"}, notice
    assert (notice["state"], notice["execution"]) == ("QuickApproval", execution)
    SEEN["links"].append(notice["url"])
    SEEN["macs"].append(link_parts(notice["url"])["mac"])
    expires = datetime.datetime.fromisoformat(notice["expires_at"].replace("Z", "+00:00")).timestamp()
    assert int(expires) == int(link_parts(notice["url"])["exp"])
    # The step's timeout ends the task; then the link has expired too.
    done = short.wait_for_end(execution, timeout=90)
    assert (done["status"], done.get("error")) == ("FAILED", "States.Timeout"), done
    wait_until(lambda: time.time() > expires + 1, 60, "the link to expire")
    response = short.open(notice["url"])
    assert (response["status"], short.outcome()) == (410, "expired"), short.browser.html()
    assert_page_headers(response)
    short.browser.screenshot(screenshots / "approval-expired.png")
    assert_png(screenshots / "approval-expired.png")
    status = short.url.request(
        "POST", "/?" + urlsplit(notice["url"]).query, b"decision=approve&comment=",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )[0]
    assert status == 410
    assert short.item(notice["id"])["status"] == {"S": "pending"}


def test_every_call_of_the_notifier_and_the_page_is_one_their_roles_allow(approvals, moto):
    """What the two functions asked of AWS in the tests above (recorded on their way to the emulator), held against
    their roles' policies as applied (tests/e2e/iam_eval.py): each call allowed, and each role used for what it is
    for (the notifier keeps tokens, signs and publishes; the page reads, decides, verifies and answers)."""
    iam = moto.client("iam")
    machine = approvals.outputs["state_machine_arn"]
    for function, recorder, needed in (
        (approvals.notify, approvals.notify_calls, {"dynamodb:PutItem", "kms:GenerateMac", "sns:Publish"}),
        (approvals.page, approvals.page_calls,
         {"dynamodb:GetItem", "dynamodb:UpdateItem", "kms:VerifyMac", "states:SendTaskSuccess",
          "states:SendTaskFailure"}),
    ):
        role = function.configuration["Role"].rsplit("/", 1)[1]
        policies = [iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
                    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]]
        policies = [json.loads(p) if isinstance(p, str) else p for p in policies]
        calls = recorder.calls(function.configuration["FunctionArn"], machine)
        assert {call.action for call in calls} >= needed, sorted({call.action for call in calls})
        refused = sorted({call.describe() for call in calls if not any(decide(p, call).allowed for p in policies)})
        assert refused == [], refused


def test_the_token_is_in_no_page_no_url_and_no_log_line(approvals, short):
    tokens = SEEN["tokens"]
    assert len(tokens) >= 4, "the tests above handed out no tokens"
    secrets = tokens + [m for m in SEEN["macs"] if m]
    for side in (approvals, short):
        pages = [e["response_body"].decode(errors="replace") for e in side.url.exchanges if "response_body" in e]
        urls = [r["url"] for r in side.browser.requests] + [e["target"] for e in side.url.exchanges]
        assert pages and urls
        for token in tokens:
            assert not any(token in page for page in pages)
            assert not any(token in url for url in urls)
            assert not any(token in link for link in SEEN["links"])
        logs = side.notify.logs() + side.page.logs()
        leaked = [s[:12] for s in secrets if s in logs]
        assert leaked == [], leaked
    # The functions did log what they did.
    lines = [json.loads(line) for line in approvals.page.logs().splitlines() if line.startswith("{")]
    assert {line.get("outcome") for line in lines if line.get("event") == "approval"} >= {"approved", "rejected"}
    lines = [json.loads(line) for line in approvals.notify.logs().splitlines() if line.startswith("{")]
    assert [line for line in lines if line.get("event") == "approval_notify"], approvals.notify.logs()[-2000:]


def test_the_applied_approvals_plan_no_change(stacks):
    code, plan = stacks["approval"].result("drift")
    assert code == 0, json.dumps(plan, indent=1)[:4000] if plan else code


@pytest.mark.last
def test_destroy_leaves_nothing(stacks):
    done = stacks["approval"].destroy().result("destroy")
    assert done["state_list"] == [], done["state_list"]
    assert all(not left for left in done["leftovers"].values()), done["leftovers"]
