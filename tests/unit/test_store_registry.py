"""The store registry is the one list of WebSocket stores: the settings, build_layer.sh, the
package's extras and the documentation's tables all agree with it."""

from __future__ import annotations

import re
import tomllib

import pytest

from asgi_lambda.settings.websocket import all_variables, websocket_from_environ, websocket_from_ws_config
from asgi_lambda.stores import registry
from tests.support.paths import ROOT

WEBSOCKETS = (ROOT / "docs" / "websockets.md").read_text()
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text()


def table_after(heading: str, page: str) -> list[list[str]]:
    """The rows (cells, stripped) of the first Markdown table after `heading` on `page`."""
    rest = page.split(heading, 1)[1]
    rows = []
    for line in rest.splitlines():
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]  # past the header and the separator


def test_every_store_and_alias_is_accepted_by_ws_backend_and_ws_config() -> None:
    for entry in registry.STORES:
        for name in (entry.name, *entry.aliases):
            required = {option.variable: "x" for option in entry.options if option.required and option.variable}
            for option in entry.options:
                if option.required and option.schemes:
                    required[option.variable or ""] = f"{option.schemes[0]}host/db"
            assert websocket_from_environ({"WS_BACKEND": name, **required}).backend == entry.name
            params = {option.params[0]: required[option.variable or ""] for option in entry.options if option.required}
            assert websocket_from_ws_config({"backend": name, "params": params}, {}).backend == entry.name


def test_the_package_extras_are_the_registrys() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]

    for entry in registry.STORES:
        if entry.extra:
            assert entry.requirement in extras[entry.extra], entry.name
            assert entry.requirement in extras["all"], entry.name


def test_the_layer_ships_the_versions_the_tests_run() -> None:
    pins = dict(
        line.split("==") for line in (ROOT / "requirements-dev.txt").read_text().splitlines() if "==" in line and not line.startswith("#")
    )

    for entry in registry.STORES:
        for package in entry.layer_packages:
            name, _, version = package.partition("==")
            assert pins[name] == version, package


def test_the_store_table_lists_each_store_with_how_to_install_it() -> None:
    rows = table_after("\n## Stores\n", WEBSOCKETS)

    assert [row[0].strip("`") for row in rows] == [entry.name for entry in registry.STORES]
    for row, entry in zip(rows, registry.STORES, strict=True):
        if entry.layer_packages:
            assert f"[{entry.extra}]" in row[1] and f"--with {entry.name}" in row[1], row
        elif entry.library:
            assert entry.library in row[1], row
        else:
            assert row[1] == "nothing", row


def test_the_code_configuration_table_lists_each_stores_names_and_params() -> None:
    rows = table_after("\n## Configuring the store in code\n", WEBSOCKETS)

    assert [re.findall(r"`([^`]+)`", row[0]) for row in rows] == [[entry.name, *entry.aliases] for entry in registry.STORES]
    for row, entry in zip(rows, registry.STORES, strict=True):
        params = [key for option in entry.options for key in option.params] + list(entry.parts)
        assert sorted(re.findall(r"`([^`]+)`", row[1])) == sorted(params), entry.name


def test_the_configuration_reference_lists_every_asgi_and_ws_variable_the_layer_reads() -> None:
    rows = table_after("\n## Environment variables\n", CONFIGURATION)
    documented = {name for row in rows for name in re.findall(r"`((?:ASGI|WS)_[A-Z0-9_]+)`", row[0])}

    assert documented == {name for name in all_variables() if name.startswith(("ASGI_", "WS_"))}


@pytest.mark.parametrize("entry", registry.STORES, ids=lambda entry: entry.name)
def test_each_registered_store_class_loads_and_has_the_registered_name(entry: registry.StoreEntry) -> None:
    assert registry.load(entry).name == entry.name  # type: ignore[attr-defined]
