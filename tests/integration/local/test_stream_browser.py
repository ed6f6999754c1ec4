"""The streaming example (examples/stream) in headless Chromium, through `asgi-lambda serve --stream`
in a child process: the page shows the first token while the app has not sent the last. The app's
model is held after its first token by a gate the test opens (a file), so the ordering is shown, not timed."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.support.browser import require_chromium
from tests.support.local import ServeProcess, clean_environ
from tests.support.paths import EXAMPLES

# The example with its model held after the first token until the gate file exists.
GATED = """
import asyncio, os, pathlib
from stream import main

GATE = pathlib.Path(os.environ["TEST_GATE"])

async def generate(prompt):
    tokens = main.reply(prompt)
    yield tokens[0]
    while not GATE.exists():
        await asyncio.sleep(0.005)
    (GATE.parent / "last-sent").touch()
    for token in tokens[1:]:
        yield token

main.generate = generate
app = main.app
"""


# Compressed (ASGI_COMPRESSION=1), the events are gzipped or brotli-compressed and flushed one by one:
# the browser still shows each token as it comes.
COMPRESSION = [pytest.param({}, None, id="plain"), pytest.param({"ASGI_COMPRESSION": "1"}, ("br", "gzip"), id="compressed")]


@pytest.mark.parametrize(("compression", "codings"), COMPRESSION)
def test_the_page_shows_the_first_token_before_the_app_sends_the_last(
    compression: dict[str, str],
    codings: tuple[str, ...] | None,
    tmp_path: Path,
    serve_process: Callable[..., ServeProcess],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chromium = require_chromium()  # in the test, not a fixture: under CI a missing browser fails it
    monkeypatch.syspath_prepend(str(EXAMPLES))
    from stream.main import reply

    (tmp_path / "gated.py").write_text(GATED)
    gate = tmp_path / "gate"
    env = clean_environ(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        TEST_GATE=str(gate),
        PYTHONPATH=os.pathsep.join([str(EXAMPLES), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        **compression,
    )
    served = serve_process("gated:app", "--stream", cwd=tmp_path, env=env)
    tokens = reply("hello")

    with sync_playwright() as playwright, playwright.chromium.launch(executable_path=chromium, headless=True) as browser:
        page = browser.new_page()
        page.goto(served.url)
        page.fill("#prompt", "hello")
        with page.expect_response(lambda response: "/tokens" in response.url) as answer:
            page.click("#send")
        encoding = answer.value.headers.get("content-encoding")
        assert encoding in codings if codings else encoding is None

        expect(page.locator("#output")).to_have_text(tokens[0])
        expect(page.locator("body")).to_have_attribute("data-state", "streaming")
        assert not (tmp_path / "last-sent").exists()  # the first token is on the page; the app holds the rest

        gate.touch()
        expect(page.locator("body")).to_have_attribute("data-state", "done")
        expect(page.locator("#output")).to_have_text("".join(tokens))
