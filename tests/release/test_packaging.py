"""What `pip install asgi-lambda[...]` brings: nothing for the core, each store's library as an extra;
and the links PyPI shows, to the documentation site and its repository."""

from __future__ import annotations

import tomllib

from asgi_lambda.docs import SITE_URL
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


def test_the_project_urls_are_the_documentation_site_and_its_repository() -> None:
    repository = "https://github.com/asgi-lambda/asgi-lambda"

    assert PYPROJECT["project"]["urls"] == {
        "Homepage": SITE_URL,
        "Documentation": f"{SITE_URL}getting-started/",
        "Source": repository,
        "Issues": f"{repository}/issues",
        "Changelog": f"{repository}/blob/main/CHANGELOG.md",
    }
