"""`scope["aws.trace_id"]`: the invocation's X-Ray trace id, the Root of the _X_AMZN_TRACE_ID header
the runtime client sets before each invocation (or of the header the layer's client's context carries),
in every HTTP and WebSocket scope; None without one. `scope["aws.tenant_id"]`: the context's tenant, when
the function uses tenant isolation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from asgi_lambda.runtime.context import LambdaContext
from asgi_lambda.stores.memory import MemoryStore
from tests.support import adapter
from tests.support.apps import RecordingApp
from tests.support.events import load_event
from tests.support.management_api import ManagementAPIStub
from tests.support.websocket import websocket_runtime

ROOT = "1-5759e988-bd862e3fe1be46a994272793"
HEADER = f"Root={ROOT};Parent=53995c3f42cd8ad8;Sampled=1"

HTTP_EVENTS = [
    "http_api_v2_get",
    "function_url_get",
    "apigw_rest_get",
    "alb_single_value",
    "vpc_lattice_v2_post",
    "lambda_edge_origin_request",
    "sqs_batch",  # a non-HTTP event, POSTed under events_path
]


@pytest.mark.parametrize("name", HTTP_EVENTS)
def test_every_http_scope_carries_the_root_of_the_invocations_trace_header(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_X_AMZN_TRACE_ID", HEADER)
    app = RecordingApp(headers=[(b"content-type", b"application/json")], body=b"{}")

    adapter(app, events_path="/events")(load_event(name), None)

    assert app.scope["aws.trace_id"] == ROOT


@pytest.mark.parametrize(
    "header",
    [
        f"Root={ROOT};Sampled=0",  # what the runtime gets for an unsampled request
        f"Sampled=1;Root={ROOT};Parent=53995c3f42cd8ad8",  # fields in another order
        f"Root={ROOT};Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1|68fd508a:5",
        f"Root={ROOT}",
    ],
)
def test_the_root_is_found_wherever_it_stands_in_the_header(header: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_X_AMZN_TRACE_ID", header)
    app = RecordingApp()

    adapter(app)(load_event("http_api_v2_get"), None)

    assert app.scope["aws.trace_id"] == ROOT


@pytest.mark.parametrize("header", [None, "", "Parent=53995c3f42cd8ad8;Sampled=1", "Root=;Sampled=0"])
def test_without_a_trace_id_the_scope_says_none(header: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if header is None:
        monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
    else:
        monkeypatch.setenv("_X_AMZN_TRACE_ID", header)
    app = RecordingApp()

    adapter(app)(load_event("http_api_v2_get"), None)

    assert app.scope["aws.trace_id"] is None


def test_each_invocation_gets_its_own_trace_id(monkeypatch: pytest.MonkeyPatch) -> None:
    app = RecordingApp()
    handler = adapter(app)
    for root in ("1-5759e988-bd862e3fe1be46a994272793", "1-5759e989-0123456789abcdef01234567"):
        monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={root};Sampled=1")
        handler(load_event("http_api_v2_get"), None)

    assert [scope["aws.trace_id"] for scope in app.scopes] == ["1-5759e988-bd862e3fe1be46a994272793", "1-5759e989-0123456789abcdef01234567"]


class RecordsScopes:
    """A WebSocket app that accepts and records the scope of every event it is run for."""

    def __init__(self) -> None:
        self.scopes: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scopes.append(scope)
        await receive()
        await send({"type": "websocket.accept"})
        while (await receive())["type"] == "websocket.receive":
            pass


@pytest.fixture
def memory_hub(stub: ManagementAPIStub) -> Iterator[None]:
    with websocket_runtime(MemoryStore(), endpoint=stub.endpoint):
        yield


def test_websocket_scopes_carry_each_events_trace_id(monkeypatch: pytest.MonkeyPatch, memory_hub: None) -> None:
    app = RecordsScopes()
    handler = adapter(app)
    roots = ["1-65a1b2c3-0123456789abcdef01234567", "1-65a1b2c4-0123456789abcdef01234567"]
    for name, root in zip(("ws_connect", "ws_message"), roots, strict=True):
        monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={root};Parent=53995c3f42cd8ad8;Sampled=1")
        assert handler(load_event(name), None) == {"statusCode": 200}

    # The message event replays the connect phase on a scope of its own: each carries its invocation's id.
    assert [scope["aws.trace_id"] for scope in app.scopes] == [roots[0], roots[1]]


def test_a_websocket_scope_without_a_trace_id_says_none(monkeypatch: pytest.MonkeyPatch, memory_hub: None) -> None:
    monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
    app = RecordsScopes()

    adapter(app)(load_event("ws_connect"), None)

    assert app.scopes[0]["aws.trace_id"] is None


# -- the layer's runtime client's context: the invocation's own trace header and tenant ----------------------


def context(trace: str | None, tenant: str | None = None) -> LambdaContext:
    headers = {"lambda-runtime-aws-request-id": "8f5e3a9c-2b7d-4e8a-9c1f-0a1b2c3d4e5f"}
    if trace is not None:
        headers["lambda-runtime-trace-id"] = trace
    if tenant is not None:
        headers["lambda-runtime-aws-tenant-id"] = tenant
    return LambdaContext(headers, environ={})


def test_the_layers_context_carries_its_invocations_trace_header_whatever_the_environment_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    # Invocations served at once share the process's _X_AMZN_TRACE_ID: each scope takes its own context's.
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-00000000-000000000000000000000000;Sampled=0")
    app = RecordingApp()
    handler = adapter(app)
    handler(load_event("http_api_v2_get"), context(HEADER))
    handler(load_event("http_api_v2_get"), context(None))

    assert [scope["aws.trace_id"] for scope in app.scopes] == [ROOT, None]


@pytest.mark.parametrize("name", HTTP_EVENTS)
def test_a_tenant_id_in_the_context_is_in_every_http_scope(name: str) -> None:
    app = RecordingApp(headers=[(b"content-type", b"application/json")], body=b"{}")

    adapter(app, events_path="/events")(load_event(name), context(HEADER, tenant="tenant-a"))

    assert app.scope["aws.tenant_id"] == "tenant-a"


def test_without_a_tenant_the_scope_has_no_tenant_key() -> None:
    app = RecordingApp()
    handler = adapter(app)
    handler(load_event("http_api_v2_get"), context(HEADER))
    handler(load_event("http_api_v2_get"), None)

    assert ["aws.tenant_id" in scope for scope in app.scopes] == [False, False]


def test_a_websocket_scope_carries_the_tenant_id(memory_hub: None) -> None:
    app = RecordsScopes()

    adapter(app)(load_event("ws_connect"), context(HEADER, tenant="tenant-b"))

    assert (app.scopes[0]["aws.tenant_id"], app.scopes[0]["aws.trace_id"]) == ("tenant-b", ROOT)
