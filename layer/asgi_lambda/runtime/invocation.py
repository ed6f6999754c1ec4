"""One invocation as awslambdaric handles it, whichever loop serves it (client.py one at a time,
concurrency.py several at once): its ids put where the logs and the trace read them, its event
decoded, its result encoded, the invocation id sent back with the answer.
"""

from __future__ import annotations

import json
import os
import sys

from .api import ASCII_JSON, RuntimeFault, dumps
from .logs import CURRENT, RequestId

TYPE_CHECKING = False  # typing is not imported on a plain handler's path (api.py says why)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, Protocol, TypeGuard

    from ..adapter import Adapter

    class ErrorLog(Protocol):
        """Where an invocation's error is logged: `Logs` on Lambda; `asgi-lambda serve --stream` prints its own."""

        def error(self, result: dict[str, Any]) -> None: ...


STREAMED = object()  # the answer went out as a stream


def begin(headers: Mapping[str, str], *, own_context: bool = False) -> tuple[str, str]:
    """The invocation starts: its request id and tenant for the log lines, its trace header in
    _X_AMZN_TRACE_ID (the process's: with invocations at once, the latest one's). With `own_context`
    (an invocation served beside others, in a task of its own), its ids are also that task's
    (logs.CURRENT), so that each log line carries those of the invocation that wrote it. Returns the
    request id, and the header line that sends the invocation id back ("" without one)."""
    request_id = headers.get("lambda-runtime-aws-request-id", "")
    tenant_id = headers.get("lambda-runtime-aws-tenant-id")
    RequestId.request_id, RequestId.tenant_id = request_id, tenant_id
    if own_context:
        CURRENT.set((request_id, tenant_id))
    trace_id = headers.get("lambda-runtime-trace-id")
    if trace_id is not None:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    invocation_id = headers.get("lambda-runtime-invocation-id")
    # Lambda Managed Instances' Runtime API names each invocation; awslambdaric sends the name back.
    if not invocation_id or "\r" in invocation_id or "\n" in invocation_id:
        return request_id, ""
    return request_id, f"Lambda-Runtime-Invocation-Id: {invocation_id}\r\n"


def is_adapter(handler: Any) -> TypeGuard[Adapter]:
    """Whether `handler` is an Adapter, without importing the adapter: until something has imported
    it, nothing can be one. A proxy that wraps one (a tracer's: OpenTelemetry's aws-lambda
    instrumentation wraps the handler with wrapt, which passes isinstance) is not: it is called as
    the handler it is, so that what it wraps around each call still happens."""
    adapter = sys.modules.get("asgi_lambda.adapter")
    return adapter is not None and issubclass(type(handler), adapter.Adapter)


def unmarshal(body: bytes, content_type: str | None) -> Any:
    """The event: JSON decoded when the Runtime API says it is JSON, else the bytes as they came."""
    if content_type != "application/json":
        return body
    try:
        return json.loads(body)
    except ValueError as exc:
        problem = str(exc)
    try:  # awslambdaric decodes with simplejson, whose messages differ a little
        import simplejson  # type: ignore[import-untyped,import-not-found,unused-ignore]

        simplejson.loads(body)
    except ImportError:
        pass
    except ValueError as exc:
        problem = str(exc)
    raise RuntimeFault("Runtime.UnmarshalError", f"Unable to unmarshal input: {problem}")


def marshal(result: Any) -> tuple[bytes, str]:
    """The result as awslambdaric encodes it: bytes as they are; anything else as JSON, NaN and
    Infinity allowed, a Decimal as its digits (DynamoDB's numbers), UTF-8 from Python 3.12 on."""
    if isinstance(result, bytes):
        return result, "application/unknown"
    try:
        return dumps(result).encode(), "application/json"
    except TypeError:
        pass  # a type only awslambdaric's own encoder takes (Decimal), or none does
    try:
        return simplejson_dumps(result).encode(), "application/json"
    except (TypeError, ValueError) as exc:
        raise RuntimeFault("Runtime.MarshalError", f"Unable to marshal response: {exc}") from None


def simplejson_dumps(result: Any) -> str:
    """awslambdaric's encoder: simplejson, a Decimal written as its digits (NaN as NaN). Without
    simplejson (which the managed runtime ships, with awslambdaric), a Decimal becomes an int or a float."""
    import decimal
    import math

    try:
        import simplejson
    except ImportError:
        simplejson = None

    def default(value: Any) -> Any:
        if isinstance(value, decimal.Decimal):
            if value.is_nan():
                return math.nan
            if simplejson is not None:
                return simplejson.RawJSON(str(value))
            return int(value) if value == value.to_integral_value() and value.is_finite() else float(value)
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    if simplejson is not None:
        return str(simplejson.dumps(result, use_decimal=False, ensure_ascii=ASCII_JSON, allow_nan=True, default=default))
    return json.dumps(result, ensure_ascii=ASCII_JSON, default=default)
