"""Sanic (ASGI mode) through the adapter, beyond the matrix (test_matrix.py): what its notes in
README's compatibility table rest on.

Sanic starts one app per process (its start-up rewrites the Sanic class, and a second app's
start-up fails), as on Lambda; so each variant here runs in its own interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

from tests.support.frameworks.matrix import item_request, request
from tests.support.paths import ROOT

RUN = """
    import json, os, sys
    from asgi_lambda import Adapter
    from tests.support.frameworks.apps import sanic_app

    {setup}
    handler = Adapter(sanic_app.app, **json.loads(sys.argv[1]))
    for event in json.loads(sys.stdin.read()):
        print(json.dumps(handler(event, None)))
"""


def run_alone(events: list[dict[str, Any]], *, setup: str = "", logs: list[str] | None = None, **options: Any) -> list[dict[str, Any]]:
    """The matrix's Sanic app behind an Adapter(**options) in a fresh interpreter: its responses
    (and what it logged, appended to `logs`)."""
    script = textwrap.dedent(RUN).format(setup=setup)
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(options)],
        input=json.dumps(events),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "WS_PATH": "/ws"},
    )
    assert done.returncode == 0, done.stderr
    if logs is not None:
        logs.append(done.stderr)
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def test_without_strip_root_path_sanic_answers_404_under_a_stage_or_base_path() -> None:
    # Sanic routes on scope["raw_path"], which keeps the mount point by default (the ASGI convention).
    responses = run_alone([item_request("stage"), item_request("domain")], api_gateway_base_path="/v1")

    assert [(response["statusCode"], json.loads(response["body"])["message"]) for response in responses] == [
        (404, "Requested URL /prod/items/42 not found"),
        (404, "Requested URL /v1/items/42 not found"),
    ]


def test_with_strip_root_path_the_same_requests_reach_their_route() -> None:
    responses = run_alone([item_request("stage"), item_request("domain")], api_gateway_base_path="/v1", strip_root_path=True)

    assert [(response["statusCode"], json.loads(response["body"])["url"]) for response in responses] == [
        (200, "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/items/42"),
        (200, "https://api.example.com/v1/items/42"),
    ]


def test_sanic_needs_its_lifespan_to_start_in_asgi_mode() -> None:
    logs: list[str] = []
    [response] = run_alone([item_request()], lifespan="off", strip_root_path=True, logs=logs)

    assert response["statusCode"] == 500
    assert "Loop can only be retrieved after the app has started running" in logs[0]


def test_without_proxies_count_sanic_builds_http_urls() -> None:
    # In ASGI mode Sanic ignores scope["scheme"]; only a trusted X-Forwarded-Proto makes it https.
    [response] = run_alone([item_request()], setup="sanic_app.app.config.PROXIES_COUNT = 0", strip_root_path=True)

    assert json.loads(response["body"])["url"] == "http://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/items/42"


def test_sanics_own_url_for_leaves_out_the_stage() -> None:
    setup = """
from sanic.response import text

@sanic_app.app.get("/plain-url")
async def plain_url(request):
    return text(request.url_for("item", item_id=42))
"""
    [response] = run_alone([request(path="/plain-url")], setup=setup, strip_root_path=True)

    assert response["body"] == "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/items/42"
