"""What `pip install asgi-lambda[...]` brings: nothing for the core, each store's library as an extra."""

from __future__ import annotations

import tomllib

from tests.support.paths import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_core_install_has_no_dependencies() -> None:
    assert PYPROJECT["project"]["dependencies"] == []


def test_each_store_library_is_an_extra() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]

    assert (extras["aws"], extras["postgresql"], extras["redis"]) == (["boto3"], ["asyncpg>=0.30"], ["redis>=5"])
    assert set(extras["aws"] + extras["postgresql"] + extras["redis"] + extras["local"]) <= set(extras["all"])


def test_the_console_script_is_the_local_gateway() -> None:
    assert PYPROJECT["project"]["scripts"] == {"asgi-lambda": "asgi_lambda.local.cli:main"}
