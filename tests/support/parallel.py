"""Names and databases that stay apart when test runs share this machine's PostgreSQL and Redis:
pytest-xdist's workers, `make test`'s interpreters side by side, and the runs of other checkouts.
A test that needs a fixed name on a shared server takes it from here."""

from __future__ import annotations

import fcntl
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import IO

PYTHON = f"py{sys.version_info.major}{sys.version_info.minor}"  # py311, py312, py313
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")  # gw0, gw1, ... under xdist; main without it


def name(prefix: str) -> str:
    """`prefix` made this process's own (a PostgreSQL database, a schema, a key prefix): the
    interpreter and worker, to read, and a random part, so that no other run has it."""
    return f"{prefix}_{PYTHON}_{WORKER}_{uuid.uuid4().hex[:8]}"


# Redis has 16 numbered databases. 0 is the one whose keys every test prefixes with a name of its
# own; 1-15 are for a test that needs a whole database (the stores' default key prefix, FLUSHDB):
# a process takes the first that no other process holds, by a lock file, until it exits.
_REDIS_DATABASES = range(1, 16)
_redis_lock: IO[str] | None = None
_redis_database: int | None = None


def redis_database() -> int:
    """A Redis database number (1-15) that this process alone uses among the test runs on this machine."""
    global _redis_lock, _redis_database
    if _redis_database is None:
        for number in _REDIS_DATABASES:
            lock = open(Path(tempfile.gettempdir()) / f"asgi-lambda-tests-redis-{number}.lock", "w")
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.close()
                continue
            _redis_lock, _redis_database = lock, number
            break
        else:
            raise RuntimeError("Redis databases 1-15 are all held by other test processes on this machine")
    return _redis_database
