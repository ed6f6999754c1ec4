"""Mangum 0.22's own test suite, run against `Adapter` with only the import line changed.

The suite ships in Mangum's sdist on PyPI (its tests/ directory). pip fetches the sdist into
.cache/ once, and its sha256 is checked; nothing of it is committed. A copy of it is unpacked for
each run, `from mangum import Mangum` becomes `from asgi_lambda import Adapter as Mangum` (the migration line of
docs/migration/mangum-0.22.md) in every test module, and its pytest runs in a subprocess, under its own
configuration. Everything else it imports (`mangum.types`, `mangum.exceptions`, its fixtures) is
Mangum's own.

Every test must pass except those in DIFFERENCES, each of which checks a behaviour that docs/differences.md's
"Differences from Mangum" table lists: a test that starts passing must leave the list too.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from tests.support.paths import ROOT
from tests.support.services import unavailable

CACHE = ROOT / ".cache" / "mangum-suite"
VERSION = "0.22.0"
SDIST = f"mangum-{VERSION}.tar.gz"
SDIST_SHA256 = "701936891aaed8ed66479b871c2bda87ba288fd01c7d5dd6ba6c8e9ba1c239d1"
MIGRATION = ("from mangum import Mangum\n", "from asgi_lambda import Adapter as Mangum\n")
TEST_MODULES_WITH_THE_IMPORT = 8
TESTS_RUN = 106  # the 110 of 0.22.0, less the LocalStack ones below

# They deploy Mangum's echo function to LocalStack in Docker (testcontainers): Mangum's own
# packaging, which never meets Adapter, and a machine with Docker.
LOCALSTACK_TESTS = (
    "tests/handlers/test_api_gateway.py::test_aws_api_gateway_real_lambda_get",
    "tests/handlers/test_api_gateway.py::test_aws_api_gateway_real_lambda_post",
    "tests/handlers/test_http_gateway.py::test_aws_http_gateway_real_lambda_get",
    "tests/handlers/test_http_gateway.py::test_aws_http_gateway_real_lambda_post",
)

# docs/differences.md's rows, by the opening words of their Mangum column.
LIFESPAN_PER_INVOCATION = "Runs lifespan startup and shutdown around every invocation."
STARTUP_FAILURE = "A failed lifespan startup raises `mangum.exceptions.LifespanFailure` from the invocation"
LIFESPAN_ON = '`lifespan="on"` serves an app that does not speak lifespan.'
BASE_PATH = "Strips the base path as a bare prefix"
RAW_PATH = "`raw_path` is `None`."
SCOPE = "Scope: ASGI spec version `2.0`"
TEXT_TYPES = "Six text types by default"
JSON_CONTENT_TYPE = "Adds `content-type: application/json` to payload 2.0 responses without one."
STATUS_DESCRIPTION = "No `statusDescription` for ALB."
ACCESS_LOG = "Logs every request (`GET /path 200`)"
CONFIG_ERROR = "A bad option raises `ConfigurationError`"
ATTRIBUTES = "Keeps its options in `handler.config`"
LAMBDA_EDGE = "Lambda@Edge answers with an integer `status`"

# Each test that fails on purpose, and the rows it checks. A name without parameters covers
# every parametrization of that test.
DIFFERENCES: dict[str, tuple[str, ...]] = {
    # Asserts handler.lifespan == "auto" and handler.config, Mangum's attributes.
    "tests/test_adapter.py::test_default_settings": (ATTRIBUTES,),
    # Closes the event loop Mangum set on its thread; no loop is set there, so that raises.
    "tests/test_adapter.py::test_event_loop_created_when_missing": (ATTRIBUTES,),
    "tests/test_adapter.py::test_invalid_options": (CONFIG_ERROR,),
    # The app asserts the whole scope.
    "tests/test_http.py::test_http_response": (SCOPE, RAW_PATH),
    "tests/test_http.py::test_set_cookies_v1": (SCOPE, RAW_PATH),
    "tests/test_http.py::test_set_cookies_v2": (SCOPE, RAW_PATH),
    "tests/test_http.py::test_http_logging": (ACCESS_LOG,),
    # Shutdown is asserted to have run by the end of the invocation.
    "tests/test_lifespan.py::test_lifespan[mock_aws_api_gateway_event0-auto]": (LIFESPAN_PER_INVOCATION,),
    "tests/test_lifespan.py::test_lifespan[mock_aws_api_gateway_event1-on]": (LIFESPAN_PER_INVOCATION,),
    "tests/test_lifespan.py::test_lifespan_state": (LIFESPAN_PER_INVOCATION,),
    "tests/test_lifespan.py::test_starlette_lifespan": (LIFESPAN_PER_INVOCATION,),
    "tests/test_lifespan.py::test_quart_lifespan": (LIFESPAN_PER_INVOCATION,),
    "tests/test_lifespan.py::test_lifespan_failure[mock_aws_api_gateway_event2-auto-shutdown]": (LIFESPAN_PER_INVOCATION,),
    "tests/test_lifespan.py::test_lifespan_failure[mock_aws_api_gateway_event3-on-shutdown]": (LIFESPAN_PER_INVOCATION,),
    # Startup fails while the adapter is made, with asgi_lambda's LifespanFailure.
    "tests/test_lifespan.py::test_lifespan_failure[mock_aws_api_gateway_event0-auto-startup]": (STARTUP_FAILURE,),
    "tests/test_lifespan.py::test_lifespan_failure[mock_aws_api_gateway_event1-on-startup]": (STARTUP_FAILURE,),
    "tests/test_lifespan.py::test_lifespan_error": (STARTUP_FAILURE,),
    "tests/test_lifespan.py::test_lifespan_unexpected_message": (STARTUP_FAILURE,),
    "tests/test_lifespan.py::test_lifespan_unsupported[mock_aws_api_gateway_event1-on]": (LIFESPAN_ON,),
    "tests/handlers/test_api_gateway.py::test_aws_api_gateway_base_path": (BASE_PATH,),
    # application/x-yaml is a text type here; the tests also read handler.config.
    "tests/handlers/test_alb.py::test_aws_alb_response_extra_mime_types": (TEXT_TYPES, ATTRIBUTES, STATUS_DESCRIPTION),
    "tests/handlers/test_api_gateway.py::test_aws_api_gateway_response_extra_mime_types": (TEXT_TYPES, ATTRIBUTES),
    "tests/handlers/test_http_gateway.py::test_aws_http_gateway_response_v1_extra_mime_types": (TEXT_TYPES, ATTRIBUTES),
    "tests/handlers/test_http_gateway.py::test_aws_http_gateway_response_v2_extra_mime_types": (TEXT_TYPES, ATTRIBUTES),
    "tests/handlers/test_lambda_at_edge.py::test_aws_lambda_at_edge_response_extra_mime_types": (TEXT_TYPES, ATTRIBUTES, LAMBDA_EDGE),
    # The app sends no content-type: Mangum adds one and sends the body as text, here it is base64.
    "tests/handlers/test_http_gateway.py::test_aws_http_gateway_response_v2[GET-None-Hello world-Hello world-False]": (JSON_CONTENT_TYPE,),
    "tests/handlers/test_http_gateway.py::test_aws_http_gateway_response_v2"
    '[GET-None-{"hello": "world", "foo": true}-{"hello": "world", "foo": true}-False]': (JSON_CONTENT_TYPE,),
    "tests/handlers/test_alb.py::test_aws_alb_response": (STATUS_DESCRIPTION,),
    "tests/handlers/test_alb.py::test_aws_alb_set_cookies": (STATUS_DESCRIPTION,),
    "tests/handlers/test_alb.py::test_aws_alb_exclude_headers": (STATUS_DESCRIPTION,),
    "tests/handlers/test_lambda_at_edge.py::test_aws_lambda_at_edge_response": (LAMBDA_EDGE,),
    "tests/handlers/test_lambda_at_edge.py::test_aws_lambda_at_edge_exclude_": (LAMBDA_EDGE,),
}


def fetch_sdist(cache: Path) -> Path:
    """Mangum's sdist, fetched from PyPI with pip the first time, then from `cache`. A failed
    download fails the test under CI, and skips it elsewhere."""
    path = cache / SDIST
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache) as download:
            command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", f"mangum=={VERSION}", "-d", download]
            try:
                result = subprocess.run(command, capture_output=True, text=True, timeout=300)
            except subprocess.TimeoutExpired:
                unavailable(f"pip download mangum=={VERSION} took over 300 s (PyPI unreachable?)")
            if result.returncode != 0:
                unavailable(f"pip download mangum=={VERSION} failed (PyPI unreachable?):\n{result.stderr[-2000:]}")
            os.replace(Path(download, SDIST), path)  # whole or not at all, should two runs race
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == SDIST_SHA256, f"{path} has sha256 {digest}, not the {SDIST_SHA256} PyPI published: delete it to fetch it again"
    return path


@pytest.fixture(scope="session")
def sdist() -> Path:
    return fetch_sdist(CACHE)


def unpack_with_the_import_changed(sdist: Path, into: Path) -> Path:
    with tarfile.open(sdist) as archive:
        archive.extractall(into, filter="data")
    suite = into / f"mangum-{VERSION}"
    changed = 0
    for module in sorted((suite / "tests").rglob("test_*.py")):
        text = module.read_text()
        changed += text.count(MIGRATION[0])
        module.write_text(text.replace(*MIGRATION))
    assert changed == TEST_MODULES_WITH_THE_IMPORT, f"the import line was found {changed} times, not {TEST_MODULES_WITH_THE_IMPORT}"
    return suite


def outcomes(report: Path) -> dict[str, str]:
    """Each test's node id and outcome (passed, failed, skipped) from a JUnit XML report; an error
    in setup or teardown counts as a failure."""
    found: dict[str, str] = {}
    for case in ElementTree.parse(report).iter("testcase"):
        node_id = f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            found[node_id] = "failed"  # a teardown error repeats a test's name: failure wins
        elif case.find("skipped") is not None:
            found.setdefault(node_id, "skipped")
        else:
            found.setdefault(node_id, "passed")
    return found


def differs_on_purpose(node_id: str) -> bool:
    return node_id in DIFFERENCES or node_id.partition("[")[0] in DIFFERENCES


def test_mangum_suite_passes_against_adapter_but_for_the_differences_readme_lists(sdist: Path, tmp_path: Path) -> None:
    suite = unpack_with_the_import_changed(sdist, tmp_path)
    report = tmp_path / "report.xml"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:ddtrace", f"--junitxml={report}"]
    command += [f"--deselect={node_id}" for node_id in LOCALSTACK_TESTS]
    # This tree's asgi_lambda first; `mangum` is the sdist's, the suite's rootdir. The suite runs
    # under its own pytest configuration, not options meant for ours.
    env = {name: value for name, value in os.environ.items() if name != "PYTEST_ADDOPTS"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "layer"), os.environ.get("PYTHONPATH")]))
    try:
        run = subprocess.run(command, cwd=suite, env=env, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        state = "its tests ran, but the process did not exit" if report.exists() else "its tests did not finish"
        pytest.fail(f"Mangum's suite did not end within 120 s: {state}.\n{output[-3000:]}")

    results = outcomes(report)
    unexpected_failures = sorted(node for node, outcome in results.items() if outcome != "passed" and not differs_on_purpose(node))
    unexpected_passes = sorted(node for node, outcome in results.items() if outcome == "passed" and differs_on_purpose(node))
    unmatched = sorted(name for name in DIFFERENCES if not any(node == name or node.partition("[")[0] == name for node in results))
    assert (unexpected_failures, unexpected_passes, unmatched) == ([], [], []), run.stdout[-6000:]
    assert len(results) == TESTS_RUN, run.stdout[-3000:]
    assert run.returncode == 1  # pytest's "some tests failed": the differences


def test_each_difference_names_a_row_of_the_differences_table() -> None:
    page = (ROOT / "docs" / "differences.md").read_text()
    section = re.search(r"^## Differences from Mangum\n(.*?)^## ", page, re.M | re.S)
    assert section is not None, "docs/differences.md has no 'Differences from Mangum' section"
    rows = [line for line in section.group(1).splitlines() if line.startswith("| ")]
    named = {row for rows_of_a_test in DIFFERENCES.values() for row in rows_of_a_test}
    assert sorted(row for row in named if not any(line.startswith(f"| {row}") for line in rows)) == []


@pytest.fixture
def pypi_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    # pip with no index and no configuration: every download fails at once.
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)


@pytest.mark.usefixtures("pypi_unreachable")
def test_a_failed_download_fails_the_test_under_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CI", "true")

    with pytest.raises(pytest.fail.Exception, match=r"pip download mangum==0\.22\.0 failed \(PyPI unreachable\?\)"):
        fetch_sdist(tmp_path)


@pytest.mark.usefixtures("pypi_unreachable")
def test_a_failed_download_skips_the_test_outside_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CI", raising=False)

    with pytest.raises(pytest.skip.Exception, match=r"pip download mangum==0\.22\.0 failed"):
        fetch_sdist(tmp_path)
