"""Where the documentation is published, and how an error message points at its fix.

The site's address is written here and nowhere else in the package (mkdocs.yml's `site_url` says the
same; tests/unit/test_troubleshooting.py keeps the two equal and checks that every anchor named in
the package is a heading of docs/troubleshooting.md). A leaf: it imports nothing.
"""

from __future__ import annotations

SITE_URL = "https://asgi-lambda.github.io/asgi-lambda/"
TROUBLESHOOTING = f"{SITE_URL}troubleshooting/"


def fix(anchor: str) -> str:
    """The sentence an error message ends with: the troubleshooting page's section on it."""
    return f" Fix: {TROUBLESHOOTING}#{anchor}"


def with_fix(message: str, anchor: str) -> str:
    """`message` ending with where its fix is, once: a message that points there already (an
    exception rebuilt from its message, as pickling does) is kept as it is."""
    return message if f"{fix('')}" in message else f"{message}{fix(anchor)}"
