"""Errors of stores reached by URL (PostgreSQL, Redis) in words, never with the password."""

from __future__ import annotations

import errno
import re
from urllib.parse import unquote, urlsplit, urlunsplit


def mask_password(url: str) -> str:
    """The URL or DSN with any password replaced by ***, fit for error messages and logs."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not parseable as a URL: mask anything between "user:" and "@"
        return re.sub(r"(?i)(password=)[^&\s]*", r"\1***", re.sub(r":[^:@/]*@", ":***@", url))
    userinfo, at, hosts = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        parts = parts._replace(netloc=f"{userinfo.partition(':')[0]}:***@{hosts}")
    # Query parameters (?password=...) and keyword DSNs (host=... password=...) alike.
    return re.sub(r"(?i)(password=)[^&\s]*", r"\1***", urlunsplit(parts))


def describe_failure(exc: BaseException, url: str, *, timeouts: tuple[type[BaseException], ...], connect_timeout: float) -> str:
    """The cause, in words, without the URL's password even if the error repeats it."""
    if refused(exc):
        text = f"connection refused ({exc})"
    elif isinstance(exc, timeouts):
        text = f"timed out ({str(exc) or f'no answer within {connect_timeout:g} s'})"
    else:
        text = f"{type(exc).__name__}: {exc}"
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    for secret in {password, unquote(password)} - {""} if password else ():
        text = text.replace(secret, "***")
    return text


def refused(exc: BaseException | None) -> bool:
    """Whether the error, or one it was raised from, is a refused connection (client libraries wrap it)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, OSError) and exc.errno == errno.ECONNREFUSED:
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False
