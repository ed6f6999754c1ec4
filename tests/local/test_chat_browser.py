"""The example chat app in two headless Chromium tabs, through the local gateway: what its users see."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .browser import Browser, require_chromium
from .conftest import Served

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def join(page: object, name: str) -> None:
    page.evaluate(f"document.getElementById('name').value = {name!r}; document.getElementById('connect').click()")  # type: ignore[attr-defined]
    page.wait_for("document.body.dataset.state === 'open'")  # type: ignore[attr-defined]


def test_a_message_typed_in_one_page_appears_in_the_other(serve: Callable[..., Served], monkeypatch: pytest.MonkeyPatch) -> None:
    chromium = require_chromium()
    monkeypatch.syspath_prepend(str(EXAMPLES))
    served = serve("chat.main:app")

    with Browser.start(chromium) as browser:
        ada = browser.new_page(f"{served.base_url}/")
        bob = browser.new_page(f"{served.base_url}/")
        join(ada, "Ada")
        join(bob, "Bob")
        ada.evaluate("document.getElementById('message').value = 'hello from Ada'; document.getElementById('send').click()")

        shown = "[...document.querySelectorAll('#messages li')].map(li => li.textContent)"
        bob.wait_for(f"{shown}.includes('Ada: hello from Ada')")
        ada.wait_for(f"{shown}.includes('Ada: hello from Ada')")
        # Ada was there when Bob joined; Bob was not there when Ada did.
        assert "Bob joined" in ada.evaluate(shown)
        assert "Ada joined" not in bob.evaluate(shown)
