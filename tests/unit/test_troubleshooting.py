"""Every error message that points at the troubleshooting page points at a section it has, on the
address the site is published at: asgi_lambda/docs.py's SITE_URL is mkdocs.yml's site_url."""

from __future__ import annotations

import inspect
import re

import yaml

from asgi_lambda import docs, exceptions
from tests.support.paths import DOCS, LAYER, ROOT

PAGE = (DOCS / "troubleshooting.md").read_text(encoding="utf-8")


def anchors_on_the_page() -> set[str]:
    """The sections' anchors, each written on its heading as `{ #anchor }`."""
    return set(re.findall(r"^#{2,4} .+ \{ #([a-z0-9-]+) \}$", PAGE, re.M))


def anchors_in_the_package() -> set[str]:
    """Every anchor an error names (`fix="..."`, `fix('...')`), and the exceptions' defaults."""
    named = set()
    for path in (LAYER / "asgi_lambda").rglob("*.py"):
        named |= set(re.findall(r"""\bfix(?:=|\()["']([a-z0-9-]+)["']""", path.read_text(encoding="utf-8")))
    for error in (exceptions.ConfigError, exceptions.AppImportError, exceptions.LifespanFailure):
        named.add(inspect.signature(error.__init__).parameters["fix"].default)
    return named


def test_the_package_names_the_site_mkdocs_publishes() -> None:
    site_url = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["site_url"]

    assert docs.SITE_URL == site_url
    assert docs.TROUBLESHOOTING == f"{site_url}troubleshooting/"


def test_every_anchor_an_error_names_is_a_section_of_the_troubleshooting_page() -> None:
    named = anchors_in_the_package()

    assert len(named) >= 15
    assert sorted(named - anchors_on_the_page()) == []


def test_an_error_ends_with_the_address_of_its_fix_once() -> None:
    error = exceptions.ConfigError("ASGI_LIFESPAN='maybe': expected one of auto, on, off.")
    rebuilt = type(error)(*error.args)  # as pickling rebuilds it

    assert str(error) == (
        "ASGI_LIFESPAN='maybe': expected one of auto, on, off. Fix: https://asgi-lambda.github.io/asgi-lambda/troubleshooting/#invalid-value"
    )
    assert str(rebuilt) == str(error)


def test_each_section_of_the_page_has_its_own_anchor() -> None:
    anchors = re.findall(r"\{ #([a-z0-9-]+) \}", PAGE)

    assert len(anchors) == len(set(anchors))
