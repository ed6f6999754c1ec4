"""The suites, and the fixtures every test may ask for.

tests/unit/ (marker `unit`), tests/integration/ (`integration`: real PostgreSQL and Redis, the moto
server, the runtime client in child processes, the built layer, Chromium, the local gateway) and
tests/release/ (`release`: packaging, the layer's build and publication, CDK, osls, cfn-lint,
Mangum's own suite): each test gets its suite's marker from its directory, so `-m unit` and
`make check` select by it. Helpers live in tests/support/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.apps import RecordingApp
from tests.support.management_api import ManagementAPIStub
from tests.support.paths import TESTS
from tests.support.runtime.layer import build_layer

SUITES = ("unit", "integration", "release")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = item.path.relative_to(TESTS).parts
        if not parts or parts[0] not in SUITES:
            raise pytest.UsageError(f"{item.nodeid}: a test belongs in tests/unit/, tests/integration/ or tests/release/")
        item.add_marker(parts[0])


@pytest.fixture
def app() -> RecordingApp:
    return RecordingApp()


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[ManagementAPIStub]:
    """A loopback Management API, and fake credentials for the client that signs calls to it."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    server = ManagementAPIStub()
    yield server
    server.close()


@pytest.fixture(scope="session")
def layer_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The universal layer, built once per session (per xdist worker) by build_layer.sh."""
    return build_layer(tmp_path_factory.mktemp("dist"))
