"""The documentation's local-tools page agrees with the CLI: every `serve` option in its table, every
event kind in its list; and the configuration reference's variable table renders (no blank line
inside it)."""

from __future__ import annotations

import argparse
import re

from asgi_lambda.local.cli import build_parser
from asgi_lambda.local.samples import KINDS
from tests.support import paths

RUNNING_LOCALLY = (paths.DOCS / "running-locally.md").read_text()
CONFIGURATION = (paths.DOCS / "configuration.md").read_text()


def section(page: str, title: str) -> str:
    start = page.index(f"\n{title}\n")
    level = title.split(" ")[0]
    end = re.compile(rf"\n#{{1,{len(level)}}} ").search(page, start + len(title) + 2)
    return page[start : end.start() if end else len(page)]


def serve_options() -> list[str]:
    parser = build_parser()
    commands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    serve = commands.choices["serve"]
    return [
        action.option_strings[-1]
        for action in serve._actions
        if action.option_strings and action.help != argparse.SUPPRESS and "--help" not in action.option_strings
    ]


def test_running_locally_shows_every_serve_option_and_the_version() -> None:
    table_rows = [line for line in RUNNING_LOCALLY.splitlines() if line.startswith("| `")]

    for option in serve_options():
        assert any(f"`{option}" in row for row in table_rows), f"{option} is not in docs/running-locally.md's serve options table"
    assert "asgi-lambda --version" in RUNNING_LOCALLY


def test_running_locally_lists_every_event_kind() -> None:
    kinds = re.search(r"\nKinds: (.*?)\.\n", RUNNING_LOCALLY, re.S)

    assert kinds is not None
    assert re.findall(r"`([a-z0-9-]+)`", kinds.group(1)) == list(KINDS)


def test_the_environment_variable_table_has_no_blank_line_inside() -> None:
    lines = section(CONFIGURATION, "## Environment variables").splitlines()
    rows = [number for number, line in enumerate(lines) if line.startswith("|")]

    assert rows, "no table under ## Environment variables"
    assert rows == list(range(rows[0], rows[-1] + 1)), "a line inside the table is not a table row"
