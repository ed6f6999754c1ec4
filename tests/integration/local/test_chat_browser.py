"""The example chat app in two headless Chromium tabs, through the local gateway: what its users see."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.support.browser import require_chromium
from tests.support.local import Served
from tests.support.paths import EXAMPLES


def join(page: Page, name: str) -> None:
    page.fill("#name", name)
    page.click("#connect")
    expect(page.locator("body")).to_have_attribute("data-state", "open")


def test_a_message_typed_in_one_page_appears_in_the_other(serve: Callable[..., Served], monkeypatch: pytest.MonkeyPatch) -> None:
    chromium = require_chromium()  # in the test, not a fixture: under CI a missing browser fails it
    monkeypatch.syspath_prepend(str(EXAMPLES))
    served = serve("chat.main:app")

    # The system Chromium through executable_path: Playwright never downloads a browser.
    with sync_playwright() as playwright, playwright.chromium.launch(executable_path=chromium, headless=True) as browser:
        tabs = browser.new_context()  # two tabs of one browser profile, as a user would open them
        ada = tabs.new_page()
        bob = tabs.new_page()
        ada.goto(f"{served.base_url}/")
        bob.goto(f"{served.base_url}/")

        join(ada, "Ada")
        join(bob, "Bob")
        ada.fill("#message", "hello from Ada")
        ada.click("#send")

        # Ada was there when Bob joined; Bob was not there when Ada did. Nobody sees their own
        # "joined": their connection is not open yet when it is broadcast.
        expect(ada.locator("#messages li")).to_have_text(["Bob joined", "Ada: hello from Ada"])
        expect(bob.locator("#messages li")).to_have_text(["Ada: hello from Ada"])
