"""Tenant isolation: the Runtime API names the invocation's tenant (Lambda-Runtime-Aws-Tenant-Id on GET
/next, here sent by the emulator); the app finds it as `scope["aws.tenant_id"]` and
`scope["aws.context"].tenant_id`, and JSON log lines carry it as `tenantId`, as AWS's runtime clients
write it. Through the built layer, under both runtime clients."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.events import load_event
from tests.support.runtime.layer import RUNTIME_CLIENTS, function

APP = """
    import json, logging

    log = logging.getLogger("app")

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await receive()
        log.warning("serving a tenant")
        body = json.dumps({"scope": scope.get("aws.tenant_id", "absent"), "context": scope["aws.context"].tenant_id})
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body.encode()})
"""


@pytest.mark.parametrize("client", list(RUNTIME_CLIENTS))
def test_the_tenant_id_reaches_the_scope_the_context_and_json_logs(tmp_path: Path, layer_zip: Path, client: str) -> None:
    env = {**RUNTIME_CLIENTS[client], "AWS_LAMBDA_LOG_FORMAT": "JSON", "ASGI_LIFESPAN": "off"}
    with function(tmp_path, layer_zip, source=APP, env=env) as fn:
        tenant = fn.api.submit(load_event("http_api_v2_get"), function_arn=fn.function_arn, tenant_id="tenant-42")
        answered = fn.api.result(tenant, 30)
        plain = fn.invoke(load_event("http_api_v2_get"))
        lines = [json.loads(line) for line in fn.stdout().splitlines() if line.startswith("{")]

    assert answered is not None and json.loads(answered.payload["body"]) == {"scope": "tenant-42", "context": "tenant-42"}
    assert json.loads(plain.payload["body"]) == {"scope": "absent", "context": None}
    logged = [(line["requestId"], line.get("tenantId")) for line in lines if line.get("message") == "serving a tenant"]
    assert logged == [(tenant, "tenant-42"), (plain.request_id, None)]
