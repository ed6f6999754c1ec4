"""A raw ASGI app that needs a package from a layer's python/lib/python3.X/site-packages (where
`./build_layer.sh --with` puts asyncpg and redis-py), for tests/integration/runtime/test_observability.py."""

import other_layer_dependency


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": other_layer_dependency.NAME.encode()})
