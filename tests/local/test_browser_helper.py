"""tests/local/browser.py drives a real headless Chromium: a static page served on 127.0.0.1.
Without Chromium these tests skip, and fail when CI is set."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .browser import Browser, BrowserError, JavaScriptError, require_chromium

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>browser helper check</title></head>
<body><p id="greeting">hello</p>
<script>
  console.log("page script ran");
  setTimeout(() => { document.body.dataset.ready = "yes"; }, 100);
</script>
</body></html>
"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root: Path = tmp_path_factory.mktemp("site")
    (root / "index.html").write_text(PAGE)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser.start(require_chromium()) as started:
        yield started


def test_a_page_is_loaded_and_its_title_read(browser: Browser, site: str) -> None:
    page = browser.new_page(site)

    assert page.evaluate("document.title") == "browser helper check"
    assert page.evaluate("document.getElementById('greeting').textContent") == "hello"
    assert page.console == ["log: page script ran"]
    assert browser.version["product"].startswith(("Chrome/", "HeadlessChrome/"))
    page.close()


def test_promises_are_awaited_and_waiting_polls(browser: Browser, site: str) -> None:
    page = browser.new_page(site)

    assert page.evaluate("new Promise(resolve => setTimeout(() => resolve({answer: 6 * 7}), 20))") == {"answer": 42}
    assert page.evaluate("undefined") is None
    assert page.wait_for("document.body.dataset.ready", timeout=5) == "yes"
    with pytest.raises(TimeoutError, match="never"):
        page.wait_for("window.never", timeout=0.3)
    page.close()


def test_javascript_errors_and_failed_navigations_raise(browser: Browser, site: str) -> None:
    page = browser.new_page(site)

    with pytest.raises(JavaScriptError, match="boom"):
        page.evaluate("(() => { throw new Error('boom') })()")
    with pytest.raises(JavaScriptError, match="nope"):
        page.evaluate("Promise.reject(new Error('nope'))")
    with pytest.raises(BrowserError, match="ERR_"):
        page.navigate("http://127.0.0.1:9/")  # the discard port: nothing listens
    page.close()
