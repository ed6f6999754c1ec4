"""What importing the package costs: nothing beyond the standard library, never boto3."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.paths import EVENTS


def test_importing_asgi_lambda_imports_no_aws_sdk_or_third_party_package() -> None:
    code = (
        "import sys; before = set(sys.modules); import asgi_lambda; "
        "new = sorted(m.split('.')[0] for m in set(sys.modules) - before); "
        "stdlib = sys.stdlib_module_names; print(sorted({m for m in new if m not in stdlib and m != 'asgi_lambda'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "[]"


# An ASGI app answering 204 through the adapter, its status printed: what the modules are read after.
ANSWER_204 = (
    "import json, sys; from asgi_lambda import Adapter\n"
    "async def app(scope, receive, send):\n"
    "    await send({'type': 'http.response.start', 'status': 204, 'headers': []})\n"
    "    await send({'type': 'http.response.body', 'body': b''})\n"
    "event = json.load(open(sys.argv[1]))\n"
    "print(Adapter(app, lifespan='off')(event, None)['statusCode'])\n"
)


def test_an_http_only_function_never_loads_websocket_code_or_boto3() -> None:
    code = (
        ANSWER_204
        + "print(sorted(m for m in sys.modules if m.startswith(('asgi_lambda.websocket', 'asgi_lambda.stores', 'asgi_lambda.sources.vpc_lattice', 'asgi_lambda.sources.lambda_edge', 'asgi_lambda.sources.apigw_websocket', 'asgi_lambda.sources.authorizer', 'asgi_lambda.sources.passthrough', 'asgi_lambda.sources.fanout', 'boto3', 'botocore', 'asyncpg', 'redis', 'asgi_lambda.protocols.compression', 'zlib', 'gzip', 'brotli'))))\n"
    )
    result = run_on_an_http_event(code)

    assert result.stdout.splitlines() == ["204", "[]"]


def test_compression_and_zlib_are_loaded_only_by_an_adapter_that_compresses() -> None:
    code = (
        "import json, sys; from asgi_lambda import Adapter\n"
        "async def app(scope, receive, send):\n"
        "    await send({'type': 'http.response.start', 'status': 200, 'headers': [(b'content-type', b'text/plain')]})\n"
        "    await send({'type': 'http.response.body', 'body': b'x' * 2000})\n"
        "event = json.load(open(sys.argv[1])); event['headers']['accept-encoding'] = 'gzip'\n"
        "plain = Adapter(app, lifespan='off')(event, None)\n"
        "print(plain['headers'], sorted(m for m in ('zlib', 'asgi_lambda.protocols.compression') if m in sys.modules))\n"
        "compressed = Adapter(app, lifespan='off', compression=True)(event, None)\n"
        "print(compressed['headers'], sorted(m for m in ('zlib', 'asgi_lambda.protocols.compression') if m in sys.modules))\n"
    )
    result = run_on_an_http_event(code)

    assert result.stdout.splitlines() == [
        "{'content-type': 'text/plain'} []",
        "{'content-type': 'text/plain', 'content-encoding': 'gzip', 'vary': 'Accept-Encoding'} ['asgi_lambda.protocols.compression', 'zlib']",
    ]


def test_serving_an_asgi_app_never_loads_the_wsgi_bridge_or_the_importer() -> None:
    code = (
        ANSWER_204
        + "print(sorted(m for m in sys.modules if m.startswith(('asgi_lambda.protocols.wsgi', 'asgi_lambda.importer', 'a2wsgi', 'concurrent.futures.thread'))))\n"
    )
    result = run_on_an_http_event(code)

    assert result.stdout.splitlines() == ["204", "[]"]


def test_serving_a_wsgi_app_loads_the_bridge_but_no_websocket_code_or_threads() -> None:
    code = (
        "import json, sys; from asgi_lambda import Adapter\n"
        "def app(environ, start_response):\n"
        "    start_response('204 No Content', [])\n"
        "    return []\n"
        "event = json.load(open(sys.argv[1]))\n"
        "print(Adapter(app)(event, None)['statusCode'])\n"
        "print(sorted(m for m in sys.modules if m.startswith(('asgi_lambda.protocols.wsgi', 'asgi_lambda.websocket', 'a2wsgi', 'concurrent.futures.thread'))))\n"
    )
    result = run_on_an_http_event(code)

    assert result.stdout.splitlines() == ["204", "['asgi_lambda.protocols.wsgi']"]


def test_serving_a_wsgi_app_one_invocation_at_a_time_imports_no_asyncio_or_event_loop() -> None:
    code = (
        "import json, sys; from asgi_lambda import Adapter\n"
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [environ['PATH_INFO'].encode()]\n"
        "event = json.load(open(sys.argv[1]))\n"
        "response = Adapter(app)(event, None)\n"
        "print(response['statusCode'], response['body'])\n"
        "print(sorted(m for m in sys.modules if m.startswith(('asyncio', '_asyncio', 'asgi_lambda.protocols.loop', 'asgi_lambda.protocols.lifespan', 'concurrent'))))\n"
    )
    environ = {name: value for name, value in os.environ.items() if name != "AWS_LAMBDA_MAX_CONCURRENCY"}
    result = run_on_an_http_event(code, env=environ)

    assert result.stdout.splitlines() == ["200 /items/42", "[]"]


def run_on_an_http_event(code: str, *, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`code` in a fresh interpreter, given the path of an HTTP API event as its first argument."""
    event = str(EVENTS / "http_api_v2_get.json")
    return subprocess.run([sys.executable, "-c", code, event], capture_output=True, text=True, check=True, env=env)
