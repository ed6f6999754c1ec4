"""Which Chromium the browser tests run: the system's (Debian: `apt-get install chromium`), handed
to Playwright as its `executable_path`, so that Playwright never downloads a browser of its own."""

from __future__ import annotations

import os
import shutil

import pytest
from playwright.sync_api import expect

# `make test` runs four test processes beside the browser on a 2-core machine: a page may take longer
# than Playwright's 5 s default to show what it will show. An assertion that is false still fails.
expect.set_options(timeout=30_000)

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
INSTALL = "apt-get install chromium"


def find_chromium() -> str | None:
    """$CHROMIUM if set (a name on PATH or a path), else the first of CANDIDATES on PATH."""
    configured = os.environ.get("CHROMIUM")
    if configured:
        return shutil.which(configured) or (configured if os.access(configured, os.X_OK) else None)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    """find_chromium(), or end the test: it fails under CI (a CI machine must have the browser)
    and skips elsewhere, both saying how to install it."""
    found = find_chromium()
    if found is None:
        looked_for = os.environ.get("CHROMIUM") or ", ".join(CANDIDATES)
        reason = f"Chromium not found (set CHROMIUM, or install it: {INSTALL}); looked for {looked_for}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found
