"""Errors of stores reached by URL (PostgreSQL, Redis) in words, never with the password."""

from __future__ import annotations

import errno
import re
from urllib.parse import quote, unquote

# A URL's scheme and the slashes after it, however many (one slash, a misspelt scheme: any).
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:/*")
# A value that may be a secret, keyword DSN (password='my secret') or query string (?password=...)
# alike: up to the next space or & outside quotes (libpq's, with backslash escapes).
SECRET_VALUE = re.compile(
    r"""(?i)\b([a-z_]*(?:password|passwd|pwd|secret|token|api_?key)[a-z_]*\s*=\s*)"""
    r"""((?:'(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?|[^\s&'"])*)"""
)

# What a URL's password cannot hold as it is: a reserved character, a space, a % that escapes nothing.
UNENCODED = re.compile(r"[/#?@\s]|%(?![0-9A-Fa-f]{2})")


def mask_password(url: str) -> str:
    """The URL or DSN with every secret in it replaced by ***, fit for error messages and logs,
    whatever its form: the URL's password (between the user's ":" and the last "@", so an unencoded
    / # ? @ in it is masked too, and so is one after a misspelt scheme or a single slash), and any
    password, token or key given as `name=value` (a keyword DSN's, quoted or not; a query string's)."""
    colon, at = userinfo_password(url)
    if colon != -1:
        url = f"{url[: colon + 1]}***{url[at:]}"
    return SECRET_VALUE.sub(r"\1***", url)


def userinfo_password(url: str) -> tuple[int, int]:
    """Where the URL's password lies: after the user's ":" and before the last "@" (-1, -1: none)."""
    at = url.rfind("@")
    scheme = SCHEME.match(url)
    start = scheme.end() if scheme else 0
    colon = url.find(":", start, at) if at > start else -1
    if colon == -1 and scheme and not scheme.group().endswith("/") and at != -1:
        colon = url.find(":", 0, at)  # "user:password@host": no scheme, the user read as one
    return (colon, at) if colon != -1 else (-1, -1)


def secrets_in(url: str) -> set[str]:
    """The secrets `mask_password` masks in `url`, as given, percent-decoded and percent-encoded (and
    a quoted value unquoted): to scrub them from the text of an error that repeats them."""
    found = set()
    colon, at = userinfo_password(url)
    if colon != -1:
        found.add(url[colon + 1 : at])
    for match in SECRET_VALUE.finditer(url):
        value = match[2]
        found.add(value)
        if value[:1] in ("'", '"'):
            found.add(re.sub(r"\\(.)", r"\1", value[1:-1] if value[-1:] == value[:1] else value[1:]))
    return {secret for value in found for secret in (value, unquote(value), quote(value, safe="")) if secret}


def describe_failure(exc: BaseException, url: str, *, timeouts: tuple[type[BaseException], ...], connect_timeout: float) -> str:
    """The cause, in words, without the URL's password even if the error repeats it. A password that
    a URL cannot hold as it is (an unencoded / # ? @ or space) is misread by the client, which then
    quotes a piece of it as a host or a port: its words are not repeated, only what would fix it."""
    colon, at = userinfo_password(url)
    if colon != -1 and UNENCODED.search(url[colon + 1 : at]):
        return (
            "the URL's password holds characters a URL reserves (/ # ? @ % or spaces), so the client misreads the URL; "
            "percent-encode the password, such as with urllib.parse.quote(password, safe='')"
        )
    if refused(exc):
        text = f"connection refused ({exc})"
    elif isinstance(exc, timeouts):
        text = f"timed out ({str(exc) or f'no answer within {connect_timeout:g} s'})"
    else:
        text = f"{type(exc).__name__}: {exc}"
    for secret in sorted(secrets_in(url), key=len, reverse=True):  # the longest first: one may hold another
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
