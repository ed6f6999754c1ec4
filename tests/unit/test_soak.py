"""Memory across invocations: 100,000 HTTP API calls through one Adapter, in one process, leave
its resident memory within 2 MB of where warm-up left it.

`make bench` prints the growth, and tracemalloc's lines that grew most (benchmarks/soak.py).
"""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Any

import pytest

from asgi_lambda import Adapter
from benchmarks.apps import minimal_app
from tests.support import adapter
from tests.support.events import load_event

CALLS = 100_000
WARMUP = 10_000  # calls that make what is made once (caches, the loop's state) before the baseline
GROWTH_LIMIT = 2 * 1024 * 1024

STATM = Path("/proc/self/statm")


def rss_bytes() -> int:
    """This process's resident set size: statm's second field, in pages."""
    return int(STATM.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def call(handler: Adapter, event: dict[str, Any], times: int) -> None:
    for _ in range(times):
        handler(event, None)


def rss_growth(handler: Adapter, event: dict[str, Any], calls: int, warmup: int) -> int:
    """Bytes the resident set grew by over `calls` calls, counted from after `warmup` calls."""
    call(handler, event, warmup)
    gc.collect()
    before = rss_bytes()
    call(handler, event, calls)
    gc.collect()
    return rss_bytes() - before


@pytest.mark.skipif(not STATM.exists(), reason="reads the resident set size from /proc (Linux)")
def test_100000_http_calls_grow_resident_memory_by_at_most_2_mb() -> None:
    handler = adapter(minimal_app)
    event = load_event("http_api_v2_get")
    assert (handler(event, None)["statusCode"], handler(event, None)["body"]) == (200, "ok")

    assert rss_growth(handler, event, CALLS, WARMUP) <= GROWTH_LIMIT
