"""README.md is the front page: short, and every link into the documentation lands on a page of the
site's navigation (and on a section the page has)."""

from __future__ import annotations

import re

import yaml

from tests.support.paths import DOCS, README, ROOT

TEXT = README.read_text(encoding="utf-8")


def nav_pages(nav: list[object]) -> set[str]:
    pages: set[str] = set()
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages |= nav_pages(value) if isinstance(value, list) else {str(value)}
    return pages


def slugs(page: str) -> set[str]:
    headings = re.findall(r"^#{1,6} (.+?)\s*$", (DOCS / page).read_text(encoding="utf-8"), re.M)
    return {re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", heading).strip().lower()) for heading in headings}


def test_the_readme_is_at_most_250_lines() -> None:
    assert len(TEXT.splitlines()) <= 250


def test_every_link_into_the_docs_names_a_page_of_the_navigation_and_a_section_it_has() -> None:
    pages = nav_pages(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"])
    links = re.findall(r"\]\(docs/([\w/.-]+\.md)(?:#([\w-]+))?\)", TEXT)

    assert len(links) >= 20
    assert [page for page, _ in links if page not in pages] == []
    assert [f"{page}#{anchor}" for page, anchor in links if anchor and anchor not in slugs(page)] == []


def test_the_after_cloning_commands_are_targets_of_the_makefile() -> None:
    commands = re.findall(r"^make (\w+)", TEXT.split("\n## After cloning\n", 1)[1], re.M)
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))

    assert commands == ["serve", "test", "check"]
    assert set(commands) <= targets
