"""docs/architecture.md stays true: every file it names exists, and its module table names every
module of the package."""

from __future__ import annotations

import re

from tests.support.paths import ROOT

DOC = (ROOT / "docs" / "architecture.md").read_text()
PACKAGE = ROOT / "layer" / "asgi_lambda"


def test_every_file_the_page_names_exists() -> None:
    named = set(re.findall(r"`([\w./<>-]+\.(?:py|txt|md|json|toml))`", DOC))
    bases = (ROOT, ROOT / "layer", PACKAGE)

    missing = []
    for path in named:
        if "<" in path:  # a pattern such as sources/<kind>.py: its folder must exist
            path = path.rpartition("/")[0]
        if not any((base / path).exists() for base in bases):
            missing.append(path)
    assert missing == []


def test_the_module_table_names_every_module_of_the_package() -> None:
    modules = {f"asgi_lambda/{path.relative_to(PACKAGE).as_posix()}" for path in PACKAGE.rglob("*.py")}
    modules.discard("asgi_lambda/__main__.py")  # `python -m asgi_lambda`: the CLI's, local/cli.py

    assert set(re.findall(r"`(asgi_lambda/[\w/]+\.py)`", DOC)) == modules
