"""The configuration reference's table of environment variables (docs/configuration.md), made from
the settings' one declaration (`asgi_lambda.settings.options.OPTIONS`) and the store registry.

    python tools/variables_table.py            # print the table
    python tools/variables_table.py --write    # put it in docs/configuration.md, between the markers

tests/unit/test_options_declared_once.py fails when the page's table is not this one.
"""

from __future__ import annotations

import re
import sys
from functools import cache
from pathlib import Path

from asgi_lambda.settings.options import OPTIONS
from asgi_lambda.stores import registry

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGE = DOCS / "configuration.md"
BEGIN = "<!-- variables: made by tools/variables_table.py --write from the settings' declaration; edit that, not this table -->"
END = "<!-- end of variables -->"


def slug(heading: str) -> str:
    """A heading's anchor, as MkDocs' table of contents makes it."""
    text = re.sub(r"[^\w\s-]", "", heading).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


@cache
def sections() -> dict[str, str]:
    """Every heading's anchor in docs/, with where a link to it points: a page's title is the page."""
    found: dict[str, str] = {}
    for page in sorted(DOCS.rglob("*.md")):
        name = page.relative_to(DOCS).as_posix()
        for level, heading in re.findall(r"^(#{1,6}) (.+?)\s*$", page.read_text(encoding="utf-8"), re.M):
            found.setdefault(slug(heading), name if level == "#" else f"{name}#{slug(heading)}")
    return found


def linked(doc: str) -> str:
    """A declaration's links to a section (`[Logs](#logs)`) made links to the page that holds it."""
    return re.sub(r"\]\(#([\w-]+)\)", lambda link: f"]({sections().get(link[1], '#' + link[1])})", doc)


def rows() -> list[str]:
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    stores = ", ".join(
        f"`{entry.name}`" + (f" (or {', '.join(f'`{alias}`' for alias in entry.aliases)})" if entry.aliases else "")
        for entry in registry.STORES
    )
    for option in OPTIONS:
        if option.variable:
            lines.append(f"| `{option.variable}` | {option.shown} | {linked(option.doc.replace('{stores}', stores))} |")
    for entry in registry.STORES:
        for store_option in entry.options:
            if store_option.variable:
                shown = (
                    f"required with `{entry.name}`"
                    if store_option.required
                    else f"`{store_option.default}`"
                    if store_option.default
                    else "none"
                )
                lines.append(f"| `{store_option.variable}` | {shown} | {linked(store_option.doc)} |")
    return lines


def generated_region(text: str) -> tuple[int, int]:
    """The lines between the markers (the table), as indexes: [first, last)."""
    lines = text.splitlines()
    first = lines.index(BEGIN) + 1
    last = lines.index(END, first)
    return first, last


def main(argv: list[str]) -> int:
    table = rows()
    if argv[1:] == ["--write"]:
        lines = PAGE.read_text(encoding="utf-8").splitlines()
        first, last = generated_region("\n".join(lines))
        PAGE.write_text("\n".join(lines[:first] + table + lines[last:]) + "\n", encoding="utf-8")
    else:
        print("\n".join(table))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
