"""Where the local tools keep their state: `$XDG_CACHE_HOME/asgi-lambda`, else
`~/.cache/asgi-lambda`; never the working directory. Private (0700): the SQLite files there hold
the connections' requests and where replies go."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def state_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The directory, made if missing, with mode 0700."""
    cache = environ.get("XDG_CACHE_HOME", "").strip()
    # The XDG spec: a relative XDG_CACHE_HOME is invalid and is ignored.
    return private_dir((Path(cache) if cache and Path(cache).is_absolute() else Path.home() / ".cache") / "asgi-lambda")


def private_dir(path: Path) -> Path:
    """`path`, made if missing, with mode 0700 (one of ours made 0755 by an older version too), resolved."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_uid == os.getuid():
        path.chmod(0o700)
    return path.resolve()
