"""Names that stay apart when suites run at once: pytest-xdist's workers (PYTEST_XDIST_WORKER,
gw0, gw1, ...) and `make test`'s interpreters side by side, all against the same PostgreSQL and
Redis servers. A test that needs a fixed name on a shared server takes it from here."""

from __future__ import annotations

import os
import sys

PYTHON = f"py{sys.version_info.major}{sys.version_info.minor}"  # py311, py312, py313
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")  # gw0, gw1, ... under xdist; main without it
TAG = f"{PYTHON}_{WORKER}"  # unique to this interpreter and this worker

# Redis has 16 numbered databases. 0 is the one whose keys every test prefixes with a name of its
# own; one each of 1-15 goes to an interpreter and worker whose test flushes a whole database.
_WORKERS_PER_PYTHON = 5
_MINORS = (11, 12, 13)


def redis_database() -> int:
    """A Redis database number of this interpreter and worker's own (1-15)."""
    minor = sys.version_info.minor
    index = 0 if WORKER == "main" else int(WORKER.removeprefix("gw"))
    if minor not in _MINORS or index >= _WORKERS_PER_PYTHON:
        raise RuntimeError(f"no Redis database set aside for python3.{minor} worker {WORKER}: see tests/support/parallel.py")
    return 1 + _MINORS.index(minor) * _WORKERS_PER_PYTHON + index


def name(prefix: str) -> str:
    """`prefix` made this interpreter and worker's own, for a PostgreSQL database or schema, a key prefix, a file."""
    return f"{prefix}_{TAG}"
