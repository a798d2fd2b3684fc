"""The FunctionUrl shim (tests/e2e/lambda_service.py) and the headless browser (tests/e2e/browser.py) on their own,
before a module uses them: a function that only records its events and answers what the test says stands where the
module's functions stand in test_approval.py and test_endpoint.py.

- the event is the documented payload 2.0 (path, query, lower-case headers, cookies, requestContext.http, body as
  text or base64), and the answer becomes the HTTP response as Lambda makes it (statusCode/headers/body, a bare
  JSON value as 200 application/json, a function error as 502);
- under AWS_IAM a request signed with credentials the emulator issued reaches the function with the caller's
  identity in requestContext.authorizer.iam; unsigned, tampered, stale, or signed by an unknown key, it is 403 and
  the function is not called;
- Chromium opens https://ID.lambda-url.us-east-1.on.aws/... (the host resolved to the shim, its certificate the
  only one trusted), submits a form with a real click, and the function gets the POST with its body base64."""

import base64
import json
import time
from urllib.parse import parse_qs

import pytest

from browser import Chromium
from lambda_service import FunctionUrl, SigV4Refused, sign_sigv4, url_event, url_response, verify_sigv4

ARN = "arn:aws:lambda:us-east-1:123456789012:function:fake"
HOST = "abcdefghij0123456789abcdefghij01.lambda-url.us-east-1.on.aws"


class Recorder:
    """A function that records every event and answers with `answer(event)` (a (kind, result) pair)."""

    def __init__(self, answer):
        self.answer = answer
        self.events = []

    def invoke(self, event, timeout: float = 60):
        self.events.append(event)
        return self.answer(event)


def url(auth: str = "NONE") -> dict:
    return {"FunctionUrl": f"https://{HOST}/", "AuthType": auth, "FunctionArn": ARN}


@pytest.fixture
def served():
    started = []

    def make(answer, auth="NONE", moto=None, allowed=None):
        function = Recorder(answer)
        shim = FunctionUrl(function, url(auth), moto, allowed)
        started.append(shim)
        return shim, function

    yield make
    for shim in started:
        shim.stop()


def test_a_get_becomes_the_documented_payload_2_0_event():
    event = url_event(
        "GET",
        "/some/p%20ath?id=a%2Bb&exp=1&exp=2&empty=",
        [("Host", HOST), ("User-Agent", "UA/1"), ("X-Custom", "one"), ("x-custom", "two"), ("Cookie", "a=1; b=2")],
        b"",
        "203.0.113.9",
        HOST,
        now=1_700_000_000.123,
        request_id="r-1",
    )
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert (event["rawPath"], event["rawQueryString"]) == ("/some/p%20ath", "id=a%2Bb&exp=1&exp=2&empty=")
    assert event["queryStringParameters"] == {"id": "a+b", "exp": "1,2", "empty": ""}
    assert event["headers"]["x-custom"] == "one,two" and event["headers"]["host"] == HOST
    assert all(name == name.lower() for name in event["headers"])
    assert event["cookies"] == ["a=1", "b=2"] and "cookie" not in event["headers"]
    http = event["requestContext"]["http"]
    assert http == {"method": "GET", "path": "/some/p ath", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9",
                    "userAgent": "UA/1"}
    context = event["requestContext"]
    assert (context["domainName"], context["domainPrefix"], context["apiId"]) == (HOST, HOST.split(".")[0],
                                                                                    HOST.split(".")[0])
    assert context["authorizer"] is None and context["requestId"] == "r-1"
    assert (context["timeEpoch"], context["time"]) == (1_700_000_000_123, "14/Nov/2023:22:13:20 +0000")
    assert "body" not in event and event["isBase64Encoded"] is False


@pytest.mark.parametrize(
    "content_type, encoded",
    [
        ("application/json", False),
        ("text/plain; charset=utf-8", False),
        ("application/cloudevents+json", False),
        ("application/x-www-form-urlencoded", True),
        ("application/octet-stream", True),
        ("", True),
    ],
)
def test_a_body_is_text_for_text_types_and_base64_otherwise(content_type, encoded):
    body = b'{"token":"t","status":"success"}'
    headers = [("Content-Type", content_type)] if content_type else []
    event = url_event("POST", "/", headers, body, "127.0.0.1", HOST)
    assert event["isBase64Encoded"] is encoded
    assert (base64.b64decode(event["body"]) if encoded else event["body"].encode()) == body


def test_answers_become_responses_as_lambda_makes_them():
    status, headers, body = url_response(
        "response",
        {"statusCode": 410, "headers": {"Content-Type": "text/html", "X-A": "1"}, "body": "<p>gone</p>",
         "cookies": ["c=1; Secure"]},
    )
    assert (status, body) == (410, b"<p>gone</p>")
    assert ("content-type", "text/html") in headers and ("set-cookie", "c=1; Secure") in headers
    assert url_response("response", {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(),
                                     "isBase64Encoded": True})[2] == b"\x00\x01"
    # A bare string or an object without statusCode: the JSON of it, 200 application/json.
    assert url_response("response", "Hello") == (200, [("content-type", "application/json")], b'"Hello"')
    assert url_response("response", {"a": 1})[2] == b'{"a": 1}'
    assert url_response("error", {"errorType": "Boom"})[0] == 502


def test_the_shim_serves_requests_over_https_to_the_function(served):
    shim, function = served(lambda e: ("response", {"statusCode": 201, "headers": {"X-Seen": e["rawQueryString"]},
                                                    "body": "made"}))
    status, headers, body = shim.request("POST", "/?x=1", b'{"a": 1}', {"Content-Type": "application/json"})
    assert (status, headers["x-seen"], body) == (201, "x=1", b"made")
    [event] = function.events
    assert event["body"] == '{"a": 1}' and event["requestContext"]["http"]["method"] == "POST"
    assert event["headers"]["host"] == HOST and event["requestContext"]["http"]["sourceIp"] == "127.0.0.1"
    assert shim.exchanges[-1]["status"] == 201


def test_a_request_over_6_mb_is_413_without_the_function(served):
    shim, function = served(lambda e: ("response", "unexpected"))
    status, _, _ = shim.request("POST", "/", b"x" * (6 * 1024 * 1024 + 1), {"Content-Type": "application/json"})
    assert status == 413 and function.events == []


def test_sigv4_verification_accepts_a_signed_request_and_refuses_every_change():
    credentials = {"AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "s3cr3t", "SessionToken": "tok"}
    keys = {"ASIAEXAMPLE": credentials}
    body = b'{"token":"t"}'
    headers = sign_sigv4(credentials, "POST", f"https://{HOST}/?a=b", body, {"Content-Type": "application/json"})
    lower = {k.lower(): v for k, v in {**headers, "Host": HOST}.items()}
    now = time.time()
    assert verify_sigv4("POST", "/?a=b", lower, body, keys, now) is credentials
    refusals = {
        "body": ("POST", "/?a=b", lower, b'{"token":"u"}', keys, now),
        "query": ("POST", "/?a=c", lower, body, keys, now),
        "method": ("PUT", "/?a=b", lower, body, keys, now),
        "host": ("POST", "/?a=b", {**lower, "host": "other.lambda-url.us-east-1.on.aws"}, body, keys, now),
        "stale": ("POST", "/?a=b", lower, body, keys, now + 301),
        "unknown key": ("POST", "/?a=b", lower, body, {}, now),
        "session token": ("POST", "/?a=b", {**lower, "x-amz-security-token": "other"}, body, keys, now),
        "unsigned": ("POST", "/?a=b", {k: v for k, v in lower.items() if k != "authorization"}, body, keys, now),
    }
    for what, args in refusals.items():
        with pytest.raises(SigV4Refused):
            verify_sigv4(*args)
            pytest.fail(f"accepted with a changed {what}")


def test_under_aws_iam_the_caller_is_verified_and_named_to_the_function(moto, served):
    shim, function = served(lambda e: ("response", {"statusCode": 200, "body": "ok"}), auth="AWS_IAM", moto=moto)
    iam = moto.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                     "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName="e2e-url-caller", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    try:
        credentials = moto.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="caller")["Credentials"]
        identity = shim.trust(credentials)
        status, _, body = shim.request("POST", "/", b"{}", {"Content-Type": "application/json"}, sign=credentials)
        assert (status, body) == (200, b"ok")
        iam_context = function.events[-1]["requestContext"]["authorizer"]["iam"]
        assert iam_context["userArn"] == identity["Arn"] and ":assumed-role/e2e-url-caller/caller" in identity["Arn"]
        assert iam_context["accessKey"] == credentials["AccessKeyId"] and iam_context["accountId"] == "123456789012"
        # Unsigned, or signed by a key the emulator did not issue to a registered caller: 403, no invocation.
        calls = len(function.events)
        assert shim.request("POST", "/", b"{}", {"Content-Type": "application/json"})[:1] == (403,)
        stranger = {"AccessKeyId": "AKIASTRANGER", "SecretAccessKey": "x"}
        assert shim.request("POST", "/", b"{}", {"Content-Type": "application/json"}, sign=stranger)[0] == 403
        assert len(function.events) == calls
        assert [e["refused"] for e in shim.exchanges[-2:]] == [
            "no AWS4-HMAC-SHA256 Authorization header", "unknown access key AKIASTRANGER"]
    finally:
        iam.delete_role(RoleName="e2e-url-caller")


PAGE = """<!doctype html><html><head><title>t</title></head><body>
<p id="outcome" data-outcome="page">Waiting</p>
<form method="post"><textarea id="comment" name="comment"></textarea>
<button id="approve" type="submit" name="decision" value="approve">Approve</button></form></body></html>"""


def page_function(event):
    headers = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
               "Content-Security-Policy": "default-src 'none'; form-action 'self'; frame-ancestors 'none'"}
    if event["requestContext"]["http"]["method"] == "GET":
        return "response", {"statusCode": 200, "headers": headers, "body": PAGE}
    form = base64.b64decode(event["body"]).decode() if event["isBase64Encoded"] else event["body"]
    fields = {k: v[0] for k, v in parse_qs(form).items()}
    body = f'<p id="outcome" data-outcome="approved">{fields["decision"]}: {fields["comment"]}</p>'
    return "response", {"statusCode": 200, "headers": headers, "body": body}


def test_chromium_opens_the_function_url_and_submits_its_form(served):
    shim, function = served(page_function)
    with Chromium(host_rules=shim.host_rules, trusted_spki=(shim.spki,)) as browser:
        response = browser.goto(f"https://{HOST}/?id=abc&exp=1")
        assert response["status"] == 200 and response["headers"]["cache-control"] == "no-store"
        assert browser.attribute("#outcome", "data-outcome") == "page"
        browser.fill("#comment", "fine & dandy")
        response = browser.click("#approve")
        assert response["status"] == 200
        assert browser.text("#outcome") == "approve: fine & dandy"
        # What the browser sent: the GET, then the form's POST to the same URL (form-action 'self').
        sent = [(r["method"], r["url"]) for r in browser.requests if r["url"].startswith("https://")]
        assert sent == [("GET", f"https://{HOST}/?id=abc&exp=1"), ("POST", f"https://{HOST}/?id=abc&exp=1")]
    get, post = function.events
    assert get["rawQueryString"] == "id=abc&exp=1" and "body" not in get
    assert post["isBase64Encoded"] is True and post["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert base64.b64decode(post["body"]) == b"comment=fine+%26+dandy&decision=approve"
    assert "Chrome" in post["requestContext"]["http"]["userAgent"]
