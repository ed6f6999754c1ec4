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
        expect(ada.locator("#messages li")).to_have_text(["Bob joined lobby", "Ada: hello from Ada"])
        expect(bob.locator("#messages li")).to_have_text(["Ada: hello from Ada"])


def say(page: Page, text: str) -> None:
    page.fill("#message", text)
    page.click("#send")


def test_two_tabs_in_rooms_hear_their_room_only_and_a_nickname_outlives_each_message(
    serve: Callable[..., Served], function_env: pytest.MonkeyPatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    chromium = require_chromium()
    monkeypatch.syspath_prepend(str(EXAMPLES))
    function_env.delenv("WS_BACKEND")  # as `asgi-lambda serve` runs it: connections, rooms and sessions in SQLite
    served = serve("chat.main:app")

    with sync_playwright() as playwright, playwright.chromium.launch(executable_path=chromium, headless=True) as browser:
        tabs = browser.new_context()
        ada = tabs.new_page()
        bob = tabs.new_page()
        ada.goto(f"{served.base_url}/")
        bob.goto(f"{served.base_url}/")
        join(ada, "Ada")
        join(bob, "Bob")
        expect(ada.locator("#messages li")).to_have_text(["Bob joined lobby"])

        say(bob, "/join room-2")
        expect(bob.locator("#messages li")).to_have_text(["Bob joined room-2"])
        expect(ada.locator("#messages li")).to_have_text(["Bob joined lobby", "Bob left lobby"])

        say(ada, "only the lobby hears this")
        say(ada, "/nick Ada L")
        expect(ada.locator("#messages li").last).to_have_text("Ada is now Ada L")
        say(ada, "/join room-2")
        expect(bob.locator("#messages li").last).to_have_text("Ada L joined room-2")
        say(ada, "hello Bob")

        # Bob heard nothing of the lobby after he left it; the nickname Ada chose in one message
        # was hers in the next ones (each a separate event, her session restored).
        expect(bob.locator("#messages li")).to_have_text(["Bob joined room-2", "Ada L joined room-2", "Ada L: hello Bob"])
        expect(ada.locator("#messages li")).to_have_text(
            [
                "Bob joined lobby",
                "Bob left lobby",
                "Ada: only the lobby hears this",
                "Ada is now Ada L",
                "Ada L joined room-2",
                "Ada L: hello Bob",
            ]
        )
