"""The documentation site, built as `make docs` builds it (mkdocs --strict) and served on 127.0.0.1,
in headless Chromium: the home page renders, the search finds `WS_BACKEND` on the configuration
reference, and every page of the navigation loads with no console error."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect, sync_playwright

from tests.support.browser import require_chromium
from tests.support.paths import ROOT


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert build.returncode == 0, build.stderr
    return output


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def nav_pages(nav: list[Any]) -> list[str]:
    """Every page of mkdocs.yml's navigation, in order, as its path under docs/."""
    pages = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages.extend(nav_pages(value) if isinstance(value, list) else [value])
    return pages


def url_of(page: str) -> str:
    """A page's address on the built site (use_directory_urls: docs/x/y.md is x/y/)."""
    return "" if page == "index.md" else page.removesuffix(".md") + "/"


NAV = nav_pages(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"])


def test_the_home_page_renders_with_the_navigation(served: str) -> None:
    chromium = require_chromium()  # in the test, not a fixture: under CI a missing browser fails it
    with sync_playwright() as playwright, playwright.chromium.launch(executable_path=chromium, headless=True) as browser:
        page = browser.new_page()
        page.goto(served)

        expect(page).to_have_title("asgi-lambda")
        expect(page.locator("article h1")).to_have_text("asgi-lambda¶")  # ¶: the heading's permalink
        expect(page.locator("article")).to_contain_text("AWS_LAMBDA_EXEC_WRAPPER=/opt/asgi-bootstrap")
        expect(page.locator("nav.md-nav--primary").get_by_text("Getting started", exact=True).first).to_be_attached()
        expect(page.locator("nav.md-nav--primary").get_by_text("Troubleshooting", exact=True).first).to_be_attached()


def test_the_search_finds_ws_backend_on_the_configuration_reference(served: str) -> None:
    chromium = require_chromium()
    with sync_playwright() as playwright, playwright.chromium.launch(executable_path=chromium, headless=True) as browser:
        page = browser.new_page()
        page.goto(served)
        search = page.locator("input.md-search__input")
        results = page.locator(".md-search-result__item a")
        # The search worker builds its index after the page loads (seconds on a loaded machine), and
        # a query typed before it is ready is not run again: type it again until results show.
        for _ in range(30):
            search.fill("")
            search.press_sequentially("WS_BACKEND")
            try:
                results.first.wait_for(state="visible", timeout=1_000)
                break
            except PlaywrightTimeout:
                continue
        expect(results.first).to_be_visible()
        links = results.evaluate_all("links => links.map(link => link.href)")
        assert any(link.startswith(f"{served}configuration/") for link in links), links


def test_every_page_of_the_navigation_loads_with_no_console_error(served: str) -> None:
    assert len(NAV) >= 25
    chromium = require_chromium()
    with sync_playwright() as playwright, playwright.chromium.launch(executable_path=chromium, headless=True) as browser:
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda message: errors.append(f"{page.url}: {message.text}") if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        page.on("requestfailed", lambda request: errors.append(f"{page.url}: {request.url} failed"))
        loaded = []
        for path in NAV:
            response = page.goto(served + url_of(path))
            assert response is not None
            page.wait_for_load_state("networkidle")
            loaded.append((path, response.status, page.locator("article h1").count()))

        assert errors == []
        assert loaded == [(path, 200, 1) for path in NAV]
