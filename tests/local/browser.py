"""A small, synchronous driver for headless Chromium over the DevTools protocol, for tests.

It needs no extra package: Chromium (Debian: `apt-get install chromium`) and the `websockets`
library the local gateway already brings. Chromium starts with `--remote-debugging-port=0` and
a throwaway profile; the port it picked is read from the profile's `DevToolsActivePort` file,
and every command goes over one WebSocket to the browser, pages being attached as flat sessions.

API:

    find_chromium() -> str | None
        The browser to run: $CHROMIUM if set, else the first of chromium, chromium-browser,
        google-chrome, google-chrome-stable, chrome on PATH; None when there is none.

    require_chromium() -> str
        find_chromium(), or end the test: pytest.fail when the environment variable CI is set
        (a CI machine must have the browser), pytest.skip with the reason otherwise.

    Browser.start(executable=None, *, extra_args=(), timeout=30.0) -> Browser
        Start headless Chromium (executable defaults to require_chromium()) with --headless
        --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
        --disable-component-update --disable-sync, a temporary --user-data-dir and
        --remote-debugging-port=0, plus extra_args. Raises BrowserError (with the end of
        Chromium's log) if it exits or does not open its DevTools port within timeout seconds.
        A Browser is a context manager: `with Browser.start() as browser: ...` closes it.

    browser.version -> dict           Browser.getVersion: "product" ("Chrome/156.0..."), etc.
    browser.log -> str                what Chromium wrote to stdout and stderr so far.
    browser.new_page(url="about:blank", *, timeout=30.0) -> Page
        A new tab (Target.createTarget, then Target.attachToTarget with flatten), with the Page
        and Runtime domains enabled, navigated to url (waiting for its load event).
    browser.close()                   Close every page and the browser, remove the profile.
                                      Idempotent; also done on leaving the `with` block.

    page.navigate(url, *, timeout=30.0) -> None
        Page.navigate, then wait for that document's load event. BrowserError when the
        navigation fails (unreachable server: net::ERR_CONNECTION_REFUSED, ...).
    page.evaluate(expression, *, timeout=10.0, await_promise=True) -> Any
        Runtime.evaluate with returnByValue: the result as JSON-compatible Python (undefined is
        None). A promise is awaited. A thrown exception or rejection raises JavaScriptError
        (its message is the JavaScript description, stack included).
    page.wait_for(expression, *, timeout=10.0, interval=0.05) -> Any
        Evaluate expression until it is truthy and return that value; TimeoutError (showing the
        last value) when it never is. For what happens asynchronously: a WebSocket opening, a
        message arriving (`document.querySelectorAll('#messages li').length >= 2`).
    page.console -> list[str]         console.* calls ("log: text") and uncaught exceptions
                                      ("exception: ..."), in order: print them when a test fails.
    page.close()                      Close the tab.

Example:

    with Browser.start() as browser:
        page = browser.new_page("http://127.0.0.1:8000/")
        assert page.evaluate("document.title") == "asgi-lambda chat"
        page.evaluate("document.getElementById('connect').click()")
        page.wait_for("document.body.dataset.state === 'open'")

One thread at a time: the helper is synchronous, and each call reads the browser's messages
until its own answer comes, keeping the events it meets for the pages they belong to.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


class BrowserError(Exception):
    """Chromium did not start, a DevTools command failed, or a navigation failed."""


class JavaScriptError(BrowserError):
    """An evaluated expression threw, or its promise was rejected."""


def find_chromium() -> str | None:
    configured = os.environ.get("CHROMIUM")
    if configured:
        return shutil.which(configured) or (configured if os.access(configured, os.X_OK) else None)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    import pytest

    found = find_chromium()
    if found is None:
        reason = (
            "Chromium not found (set CHROMIUM, or install it: apt-get install chromium); "
            f"looked for {os.environ.get('CHROMIUM') or ', '.join(CANDIDATES)}"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


class Browser:
    def __init__(self, process: subprocess.Popen[bytes], directory: Path, connection: ClientConnection, exit_stack: contextlib.ExitStack) -> None:
        self.process = process
        self.directory = directory
        self.connection = connection
        self._exit_stack = exit_stack
        self.pages: dict[str, Page] = {}  # by session id
        self._ids = itertools.count(1)
        self._closed = False

    @classmethod
    def start(cls, executable: str | None = None, *, extra_args: tuple[str, ...] | list[str] = (), timeout: float = 30.0) -> Browser:
        executable = executable or require_chromium()
        directory = Path(tempfile.mkdtemp(prefix="asgi-lambda-chromium-"))
        profile = directory / "profile"
        profile.mkdir()
        with open(directory / "chromium.log", "wb") as log:
            process = subprocess.Popen(
                [executable, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0", *extra_args, "about:blank"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: close() can end its children too
            )
        exit_stack = contextlib.ExitStack()
        try:
            url = _devtools_url(process, directory, timeout)
            # Entered as a context manager, the form every websockets release (13 and later) accepts.
            connection = exit_stack.enter_context(
                connect(url, proxy=None, max_size=None, compression=None, ping_interval=None, open_timeout=timeout)
            )
        except BaseException:
            exit_stack.close()
            _stop(process, grace=0.0)
            shutil.rmtree(directory, ignore_errors=True)
            raise
        return cls(process, directory, connection, exit_stack)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def log(self) -> str:
        try:
            return (self.directory / "chromium.log").read_text(errors="replace")
        except OSError:
            return ""

    @property
    def version(self) -> dict[str, Any]:
        version: dict[str, Any] = self.command("Browser.getVersion")
        return version

    def new_page(self, url: str = "about:blank", *, timeout: float = 30.0) -> Page:
        target_id = self.command("Target.createTarget", {"url": "about:blank"}, timeout=timeout)["targetId"]
        session_id = self.command("Target.attachToTarget", {"targetId": target_id, "flatten": True}, timeout=timeout)["sessionId"]
        page = Page(self, target_id, session_id)
        self.pages[session_id] = page
        page.command("Page.enable", timeout=timeout)
        page.command("Page.setLifecycleEventsEnabled", {"enabled": True}, timeout=timeout)
        page.command("Runtime.enable", timeout=timeout)
        if url != "about:blank":
            page.navigate(url, timeout=timeout)
        return page

    def command(self, method: str, params: dict[str, Any] | None = None, *, session_id: str | None = None, timeout: float = 30.0) -> Any:
        """Send one DevTools command and return its result; events read meanwhile are kept."""
        if self._closed:
            raise BrowserError("the browser is closed")
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session_id is not None:
            message["sessionId"] = session_id
        self.connection.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            answer = self._receive(deadline, f"{method} got no answer within {timeout} s")
            if answer.get("id") == message_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error'].get('message')} ({answer['error']})")
                return answer.get("result", {})

    def _receive(self, deadline: float, timeout_message: str) -> dict[str, Any]:
        """The next message from the browser; an event is handed to its page on the way."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(timeout_message)
        try:
            raw = self.connection.recv(timeout=remaining)
        except TimeoutError:
            raise TimeoutError(timeout_message) from None
        message: dict[str, Any] = json.loads(raw)
        if "method" in message:
            page = self.pages.get(message.get("sessionId", ""))
            if page is not None:
                page._event(message)
        return message

    def close(self) -> None:
        if self._closed:
            return
        try:
            self.command("Browser.close", timeout=5.0)
        except Exception:
            pass  # it may be gone already; _stop makes sure
        self._closed = True
        try:
            self._exit_stack.close()
        except Exception:
            pass
        _stop(self.process)
        shutil.rmtree(self.directory, ignore_errors=True)


class Page:
    def __init__(self, browser: Browser, target_id: str, session_id: str) -> None:
        self.browser = browser
        self.target_id = target_id
        self.session_id = session_id
        self.console: list[str] = []
        self._events: deque[dict[str, Any]] = deque(maxlen=1000)

    def command(self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 30.0) -> Any:
        return self.browser.command(method, params, session_id=self.session_id, timeout=timeout)

    def navigate(self, url: str, *, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        self._events.clear()
        result = self.command("Page.navigate", {"url": url}, timeout=timeout)
        if result.get("errorText"):
            raise BrowserError(f"navigating to {url}: {result['errorText']}")
        loader_id = result.get("loaderId")
        if not loader_id:
            return  # a same-document navigation (a #fragment): nothing loads
        while True:
            for event in self._events:
                params = event.get("params", {})
                if event["method"] == "Page.lifecycleEvent" and params.get("name") == "load" and params.get("loaderId") == loader_id:
                    return
            self._events.clear()
            self.browser._receive(deadline, f"{url} did not load within {timeout} s")

    def evaluate(self, expression: str, *, timeout: float = 10.0, await_promise: bool = True) -> Any:
        result = self.command(
            "Runtime.evaluate",
            {
                "expression": expression,
                "awaitPromise": await_promise,
                "returnByValue": True,
                "userGesture": True,
                "timeout": int(timeout * 1000),
            },
            timeout=timeout + 5.0,
        )
        details = result.get("exceptionDetails")
        if details is not None:
            exception = details.get("exception", {})
            description = exception.get("description") or exception.get("value") or details.get("text")
            raise JavaScriptError(f"{expression!r} threw: {description}")
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, *, timeout: float = 10.0, interval: float = 0.05) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression, timeout=max(deadline - time.monotonic(), 1.0))
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{expression!r} still {value!r} after {timeout} s; console: {self.console}")
            time.sleep(interval)

    def close(self) -> None:
        if self.session_id in self.browser.pages:
            del self.browser.pages[self.session_id]
            self.browser.command("Target.closeTarget", {"targetId": self.target_id})

    def _event(self, message: dict[str, Any]) -> None:
        method, params = message["method"], message.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(_describe(arg) for arg in params.get("args", []))
            self.console.append(f"{params.get('type')}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.console.append(f"exception: {details.get('exception', {}).get('description') or details.get('text')}")
        self._events.append(message)


def _describe(remote_object: dict[str, Any]) -> str:
    if "value" in remote_object:
        return str(remote_object["value"])
    return str(remote_object.get("description") or remote_object.get("type"))


def _devtools_url(process: subprocess.Popen[bytes], directory: Path, timeout: float) -> str:
    """The browser's DevTools WebSocket URL, from the DevToolsActivePort file Chromium writes."""
    port_file = directory / "profile" / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BrowserError(f"Chromium exited with {process.returncode}:\n{_tail(directory)}")
        try:
            lines = port_file.read_text().splitlines()
        except OSError:
            lines = []
        if len(lines) >= 2 and lines[0].strip().isdigit():
            return f"ws://127.0.0.1:{lines[0].strip()}{lines[1].strip()}"
        time.sleep(0.05)
    raise BrowserError(f"Chromium wrote no {port_file.name} within {timeout} s:\n{_tail(directory)}")


def _tail(directory: Path, lines: int = 30) -> str:
    try:
        return "\n".join((directory / "chromium.log").read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(process: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """End the Chromium we started, and its helper processes (its own process group), after
    giving it `grace` seconds to exit by itself."""
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
