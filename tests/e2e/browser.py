"""Headless Chromium (Debian's `chromium` package, installed by scripts/setup-tools.sh) driven over the DevTools
protocol through a pipe (`--remote-debugging-pipe`: the browser reads commands on its fd 3 and writes answers on
its fd 4, each a JSON text ended by a NUL byte). Nothing to install beside the browser, no port to find, and the
protocol ends with the process.

What the tests need and nothing more: open a URL, wait for the page, read its HTML, fill a field, click a button
as a mouse does (a real click on the element's centre, so the browser submits the form itself), take a screenshot,
and the log of every request the browser made (URL, method, body) and every response it saw (status, headers).
Every wait is bounded; `close()` ends the browser (Browser.close, then terminate, then kill) and removes its profile.

Launch flags: headless without a sandbox or a GPU (a container), no QUIC, and none of Chromium's own background
traffic (first-run, component updates, sync, background networking): that traffic is refused here, and it has
nothing to do with a test. A fresh `--user-data-dir` for each browser.
"""

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

CHROMIUM = os.environ.get("SFNGEN_CHROMIUM", "/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--remote-debugging-pipe",
)


class CdpError(AssertionError):
    """A DevTools command answered with an error, or no answer came in time."""


class Chromium:
    """One headless Chromium with one page (tab).

    `host_rules`: Chromium's --host-resolver-rules (e.g. "MAP *.on.aws 127.0.0.1:PORT": a host name the test
    cannot resolve goes to a loopback server). `trusted_spki`: base64 SHA-256 hashes of the public keys of
    certificates to accept although no authority signed them (--ignore-certificate-errors-spki-list): the
    test's own HTTPS server, and no other certificate error is ignored."""

    def __init__(self, host_rules: str = "", trusted_spki: tuple = (), timeout: float = 30, width: int = 1000):
        assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run scripts/setup-tools.sh (Debian's chromium)"
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="sfngen-chromium-")
        flags = [*FLAGS, f"--user-data-dir={self.profile}", f"--window-size={width},800"]
        if host_rules:
            flags.append(f"--host-resolver-rules={host_rules}")
        if trusted_spki:
            flags.append(f"--ignore-certificate-errors-spki-list={','.join(trusted_spki)}")
        # Two pipes, kept off fds 3 and 4 in this process, put on 3 and 4 in the browser by bash's
        # redirections (then closed at their first numbers; dash takes single-digit fds only).
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        child_r = _high_fd(to_browser_r)
        child_w = _high_fd(from_browser_w)
        script = f'exec "$0" "$@" 3<&{child_r} 4>&{child_w} {child_r}<&- {child_w}>&-'
        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            ["/bin/bash", "-c", script, CHROMIUM, *flags, "about:blank"],
            pass_fds=(child_r, child_w),
            stdin=subprocess.DEVNULL,
            stdout=self.stderr,
            stderr=self.stderr,
            start_new_session=True,
        )
        for fd in (child_r, child_w):
            os.close(fd)
        self._next_id = 0
        self._lock = threading.Lock()
        self._cond = threading.Condition()
        self._answers: dict = {}
        self.events: list = []  # (method, params, sessionId) in arrival order
        self._closed = False
        threading.Thread(target=self._read, daemon=True).start()
        try:
            self.session = self._open_page(width)
        except BaseException:
            self.close()
            raise

    # -- the protocol

    def _read(self):
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_browser, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cond:
                    self._closed = True
                    self._cond.notify_all()
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                with self._cond:
                    if "id" in message:
                        self._answers[message["id"]] = message
                    else:
                        self.events.append((message["method"], message.get("params", {}), message.get("sessionId")))
                    self._cond.notify_all()

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float | None = None):
        """Sends one command (to the page's session unless `session` is given: "" for the browser) and returns
        its result; raises CdpError on an error answer or none within the timeout."""
        with self._lock:
            self._next_id += 1
            ident = self._next_id
        message = {"id": ident, "method": method, "params": params or {}}
        target = self.__dict__.get("session") if session is None else session
        if target:
            message["sessionId"] = target
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._cond:
            while ident not in self._answers:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    raise CdpError(f"no answer to {method} within {timeout or self.timeout}s\n{self.browser_log()}")
                self._cond.wait(remaining)
            answer = self._answers.pop(ident)
        if "error" in answer:
            raise CdpError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    def mark(self) -> int:
        """A position in the event log: `wait_event(..., after=mark)` looks only at later events."""
        with self._cond:
            return len(self.events)

    def wait_event(self, method: str, after: int = 0, timeout: float | None = None, where=lambda params: True):
        """The first event `method` of the page's session after position `after` for which `where` holds."""
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._cond:
            while True:
                for name, params, session in self.events[after:]:
                    if name == method and session == self.session and where(params):
                        return params
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    raise CdpError(f"no {method} within {timeout or self.timeout}s\n{self.browser_log()}")
                self._cond.wait(remaining)

    def _open_page(self, width: int) -> str:
        target = self.send("Target.createTarget", {"url": "about:blank"}, session="")["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True}, session="")["sessionId"]
        for domain in ("Page", "Network", "Runtime"):
            self.send(f"{domain}.enable", session=session)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        return session

    # -- what a test does with the page

    def goto(self, url: str):
        """Opens a URL and waits for the page's load event; the document's response (see `responses`)."""
        mark = self.mark()
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise CdpError(f"navigating to {url}: {result['errorText']}")
        self.wait_event("Page.loadEventFired", after=mark)
        return self.document_response(mark)

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (DevTools evaluates it whatever the page's CSP)."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise CdpError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def html(self) -> str:
        return self.evaluate("document.documentElement.outerHTML")

    def text(self, selector: str) -> str | None:
        return self.evaluate(f"(e => e && e.innerText)(document.querySelector({json.dumps(selector)}))")

    def attribute(self, selector: str, name: str) -> str | None:
        return self.evaluate(
            f"(e => e && e.getAttribute({json.dumps(name)}))(document.querySelector({json.dumps(selector)}))"
        )

    def fill(self, selector: str, text: str):
        """Focuses a field and types `text` into it (as an input method inserts it)."""
        focused = self.evaluate(
            f"(e => {{ if (!e) return false; e.focus(); return document.activeElement === e; }})"
            f"(document.querySelector({json.dumps(selector)}))"
        )
        assert focused, f"no focusable {selector} on the page"
        self.send("Input.insertText", {"text": text})

    def click(self, selector: str, navigates: bool = True):
        """A left click in the middle of the element, as a mouse makes it; with `navigates`, waits for the next
        page's load event and returns its document's response."""
        box = self.evaluate(
            f"(e => {{ if (!e) return null; e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect();"
            f" return [r.x + r.width / 2, r.y + r.height / 2]; }})(document.querySelector({json.dumps(selector)}))"
        )
        assert box, f"no {selector} on the page"
        mark = self.mark()
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            event = {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1}
            if kind == "mouseMoved":
                event = {"type": kind, "x": box[0], "y": box[1]}
            self.send("Input.dispatchMouseEvent", event)
        if not navigates:
            return None
        self.wait_event("Page.loadEventFired", after=mark)
        return self.document_response(mark)

    def screenshot(self, path: Path):
        """A PNG of the page at `path`: the window's width, and the height of what the page shows (its body's
        bottom margin included), not the window's empty rest."""
        height = self.evaluate(
            "Math.ceil(document.body.getBoundingClientRect().bottom"
            " + parseFloat(getComputedStyle(document.body).marginBottom || '0'))"
        )
        width = self.evaluate("document.documentElement.clientWidth")
        clip = {"x": 0, "y": 0, "width": width, "height": max(int(height), 100), "scale": 1}
        data = self.send("Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True})
        path.write_bytes(base64.b64decode(data["data"]))
        return path

    # -- what the browser sent and received

    @property
    def requests(self) -> list:
        """Every request the page made: {"url", "method", "postData" (when sent), "headers"}."""
        with self._cond:
            return [
                {**params["request"], "requestId": params["requestId"]}
                for name, params, session in self.events
                if name == "Network.requestWillBeSent" and session == self.session
            ]

    @property
    def responses(self) -> list:
        """Every response the page received: {"url", "status", "headers", "requestId"}."""
        with self._cond:
            return [
                {**params["response"], "requestId": params["requestId"], "type": params.get("type")}
                for name, params, session in self.events
                if name == "Network.responseReceived" and session == self.session
            ]

    def document_response(self, after: int) -> dict:
        """The response of the last document loaded after position `after` in the event log."""
        with self._cond:
            found = [
                {**params["response"], "requestId": params["requestId"]}
                for name, params, session in self.events[after:]
                if name == "Network.responseReceived" and session == self.session and params.get("type") == "Document"
            ]
        assert found, "no document was loaded"
        return found[-1]

    def browser_log(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")[-3000:]

    def close(self):
        """Ends the browser: Browser.close, then SIGTERM, then SIGKILL to its process group (its own session, which
        this object started: the zygote and renderers with it), each after a bounded wait; removes its profile."""
        if self.process.poll() is None:
            try:
                self.send("Browser.close", session="", timeout=5)
            except (CdpError, OSError):
                pass
        group = self.process.pid
        for sig in (None, signal.SIGTERM, signal.SIGKILL):
            if sig is not None:
                try:
                    os.killpg(group, sig)
                except ProcessLookupError:
                    break
            if _group_gone(self.process, group, timeout=10):
                break
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _high_fd(fd: int) -> int:
    """`fd` moved to a number of 10 or more (so the shell's `3<&N 4>&M` never overwrites one with the other)."""
    import fcntl

    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


def _group_gone(process: subprocess.Popen, group: int, timeout: float) -> bool:
    """Waits up to `timeout` seconds for the browser and every process of its group to exit."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        process.poll()
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            process.poll()
            return True
        time.sleep(0.1)
    return False
