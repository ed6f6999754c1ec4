"""README's table of environment variables, made from the settings' one declaration
(`asgi_lambda.settings.options.OPTIONS`) and the store registry.

    python tools/variables_table.py            # print the table
    python tools/variables_table.py --write    # put it in README.md, under "### Environment variables"

tests/unit/test_variables_table.py fails when README's table is not this one.
"""

from __future__ import annotations

import sys
from pathlib import Path

from asgi_lambda.settings.options import OPTIONS
from asgi_lambda.stores import registry

README = Path(__file__).resolve().parent.parent / "README.md"
HEADING = "### Environment variables"


def rows() -> list[str]:
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    stores = ", ".join(
        f"`{entry.name}`" + (f" (or {', '.join(f'`{alias}`' for alias in entry.aliases)})" if entry.aliases else "")
        for entry in registry.STORES
    )
    for option in OPTIONS:
        if option.variable:
            lines.append(f"| `{option.variable}` | {option.shown} | {option.doc.replace('{stores}', stores)} |")
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
                lines.append(f"| `{store_option.variable}` | {shown} | {store_option.doc} |")
    return lines


def readme_table(text: str) -> tuple[int, int]:
    """Where the table after the heading starts and ends, as line indexes."""
    lines = text.splitlines()
    start = next(index for index, line in enumerate(lines) if line.strip() == HEADING)
    first = next(index for index in range(start, len(lines)) if lines[index].startswith("|"))
    last = next((index for index in range(first, len(lines)) if not lines[index].startswith("|")), len(lines))
    return first, last


def main(argv: list[str]) -> int:
    table = rows()
    if argv[1:] == ["--write"]:
        lines = README.read_text(encoding="utf-8").splitlines()
        first, last = readme_table("\n".join(lines))
        README.write_text("\n".join(lines[:first] + table + lines[last:]) + "\n", encoding="utf-8")
    else:
        print("\n".join(table))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
