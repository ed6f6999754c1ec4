"""The framework matrix: the frameworks, the requests every app in tests/support/frameworks/apps/ answers,
and what each answer must be.

Every app serves the same routes, written the framework's own way:

    GET  /items/{item_id}  -> {"item_id", "tags" (query), "session" (cookie), "url" (the framework's
                              own URL for the route: url_for, reverse or its equivalent), "started"
                              (set by its lifespan or startup hook)}
    POST /form             -> the urlencoded fields, as JSON
    POST /json             -> {"received": the JSON body}
    POST /upload           -> {"filename", "size", "note"} of a multipart upload
    GET  /binary           -> BINARY as application/octet-stream
    GET  /boom             -> raises: the framework's own 500 page
    WS   /ws               -> "echo: <text>" for each text message (where the framework has WebSockets)

The apps are self-contained files, so the same source runs in-process (tests/unit/frameworks/test_matrix.py)
and as a zero-code function through the built layer (tests/integration/runtime/test_frameworks_layer.py).
"""

from __future__ import annotations

import base64
import copy
import importlib
import json
from pathlib import Path
from typing import Any

from ..events import load_event

APPS = Path(__file__).parent / "apps"

BINARY = bytes(range(256))  # every byte value: no text decoding survives it
BOUNDARY = "matrixboundary"
UPLOAD = (
    (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="note"\r\n\r\n'
        "a small file\r\n"
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="hello.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    + BINARY
    + f"\r\n--{BOUNDARY}--\r\n".encode()
)

# Where each base sends the client, and the URL a route generated under it must carry.
STAGE_URL = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod"
DOMAIN_URL = "https://api.example.com/v1"
BASE_URLS = {"stage": STAGE_URL, "domain": DOMAIN_URL}


class Framework:
    """One row of README's compatibility table, and how the tests run its app."""

    def __init__(
        self,
        name: str,
        module: str,
        *,
        title: str,
        attribute: str = "app",
        package: str,
        options: dict[str, Any] | None = None,
        environ: dict[str, str] | None = None,
        lifespan: bool = True,
        websocket: str = "",
        error_page: tuple[str, bytes],
    ) -> None:
        self.name = name
        self.title = title  # its row in README's table
        self.module = module  # tests/support/frameworks/apps/<module>.py
        self.attribute = attribute
        self.package = package  # the distribution whose version README's table names
        self.options = options or {}  # the Adapter keywords this framework needs
        self.environ = environ or {}  # the same, as the layer's variables
        self.lifespan = lifespan
        self.websocket = websocket  # "" where its WebSockets work; else why not
        self.error_page = error_page  # (content-type prefix, a piece of the body) of its own 500 page

    def __repr__(self) -> str:
        return self.name

    def app(self) -> Any:
        return getattr(importlib.import_module(f"tests.support.frameworks.apps.{self.module}"), self.attribute)

    def source(self) -> str:
        return (APPS / f"{self.module}.py").read_text()


STRIP = {"strip_root_path": True}
STRIP_ENV = {"ASGI_STRIP_ROOT_PATH": "1"}

FRAMEWORKS = [
    Framework("starlette", "starlette_app", title="Starlette", package="starlette", error_page=("text/plain", b"Internal Server Error")),
    Framework("fastapi", "fastapi_app", title="FastAPI", package="fastapi", error_page=("text/plain", b"Internal Server Error")),
    Framework(
        "quart",
        "quart_app",
        title="Quart",
        package="quart",
        error_page=("text/html", b"500 Internal Server Error"),
    ),
    Framework(
        "django",
        "django_app",
        title="Django",
        package="django",
        lifespan=False,
        websocket="Django has none; Django Channels adds them (the 'channels' row)",
        error_page=("text/html", b"Server Error (500)"),
    ),
    Framework(
        "channels",
        "django_app",
        attribute="channels_app",
        title="Django Channels",
        package="channels",
        lifespan=False,
        error_page=("text/html", b"Server Error (500)"),
    ),
    Framework("litestar", "litestar_app", title="Litestar", package="litestar", error_page=("application/json", b'"status_code":500')),
    Framework(
        "falcon",
        "falcon_app",
        title="Falcon (ASGI)",
        package="falcon",
        options=STRIP,
        environ=STRIP_ENV,
        error_page=("application/json", b'"title": "500 Internal Server Error"'),
    ),
    Framework(
        "blacksheep", "blacksheep_app", title="BlackSheep", package="blacksheep", error_page=("text/plain", b"Internal Server Error")
    ),
    Framework(
        "sanic",
        "sanic_app",
        title="Sanic (ASGI mode)",
        package="sanic",
        options=STRIP,
        environ=STRIP_ENV,
        error_page=("application/json", b'"status":500'),  # its format follows the request's Accept
    ),
    # WSGI apps, found by ASGI_INTERFACE=auto and served through protocols/wsgi.py: no lifespan, no WebSockets.
    Framework(
        "flask",
        "flask_app",
        title="Flask (WSGI)",
        package="flask",
        lifespan=False,
        websocket="WSGI has none: a WebSocket event is refused, naming WSGI",
        error_page=("text/html", b"Internal Server Error"),
    ),
    Framework(
        "django-wsgi",
        "django_app",
        attribute="wsgi_app",
        title="Django (WSGI)",
        package="django",
        lifespan=False,
        websocket="WSGI has none: a WebSocket event is refused, naming WSGI",
        error_page=("text/html", b"Server Error (500)"),
    ),
    Framework(
        "bottle",
        "bottle_app",
        title="Bottle (WSGI)",
        package="bottle",
        lifespan=False,
        websocket="WSGI has none: a WebSocket event is refused, naming WSGI",
        error_page=("text/html", b"Internal Server Error"),
    ),
]
BY_NAME = {framework.name: framework for framework in FRAMEWORKS}


def request(
    method: str = "GET",
    path: str = "/items/42",
    *,
    base: str = "stage",
    query: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> dict[str, Any]:
    """An API Gateway REST event: on the execute-api domain under the `prod` stage (`base="stage"`),
    or on a custom domain whose base path mapping is /v1 (`base="domain"`)."""
    if base == "stage":
        event = load_event("apigw_rest_get")
        event["path"], event["requestContext"]["path"] = path, f"/prod{path}"
    else:
        event = load_event("apigw_rest_custom_domain")
        event["path"] = event["requestContext"]["path"] = f"/v1{path}"
    event["httpMethod"] = event["requestContext"]["httpMethod"] = method
    event["multiValueQueryStringParameters"] = copy.deepcopy(query)
    event["queryStringParameters"] = {name: values[-1] for name, values in query.items()} if query else None
    if body:
        headers = {"Content-Length": str(len(body)), **(headers or {})}  # API Gateway passes the client's on
    for name, value in (headers or {}).items():
        event["headers"][name] = value
        event["multiValueHeaders"][name] = [value]
    event["body"] = base64.b64encode(body).decode() if body else None
    event["isBase64Encoded"] = bool(body)
    return event


def item_request(base: str = "stage") -> dict[str, Any]:
    return request(query={"tag": ["a", "b"]}, headers={"Cookie": "session=abc123; theme=dark"}, base=base)


def form_request() -> dict[str, Any]:
    return request("POST", "/form", headers={"Content-Type": "application/x-www-form-urlencoded"}, body=b"name=Ada+L&lang=py%2B%2B")


def json_request() -> dict[str, Any]:
    body = json.dumps({"n": 1, "tags": ["x"], "text": "café"}).encode()
    return request("POST", "/json", headers={"Content-Type": "application/json"}, body=body)


def upload_request() -> dict[str, Any]:
    return request("POST", "/upload", headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}, body=UPLOAD)


def expected_item(framework: Framework, base: str) -> dict[str, Any]:
    return {
        "item_id": 42,
        "tags": ["a", "b"],
        "session": "abc123",
        "url": f"{BASE_URLS[base]}/items/42",
        "started": framework.lifespan,
    }


EXPECTED_FORM = {"name": "Ada L", "lang": "py++"}
EXPECTED_JSON = {"received": {"n": 1, "tags": ["x"], "text": "café"}}
EXPECTED_UPLOAD = {"filename": "hello.bin", "size": len(BINARY), "note": "a small file"}


def body_of(response: dict[str, Any]) -> bytes:
    body = response.get("body") or ""
    return base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()


def json_of(response: dict[str, Any]) -> Any:
    return json.loads(body_of(response))


def header(response: dict[str, Any], name: str) -> str:
    """A response header's first value, from any shape: `headers` (single values; REST puts a
    repeated header's values in `multiValueHeaders` instead, as Mangum does)."""
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    for key, values in (response.get("multiValueHeaders") or {}).items():
        if key.lower() == name and values:
            return str(values[0])
    return ""
