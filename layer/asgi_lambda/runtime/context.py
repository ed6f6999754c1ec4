"""The context of one invocation, with every attribute and method of the managed runtime's.
https://docs.aws.amazon.com/lambda/latest/dg/python-context.html
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time

from .api import RuntimeFault
from .logs import SinkHandler

TYPE_CHECKING = False  # typing is not imported on a plain handler's path (api.py says why)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


class Slots:
    """Fields from a dict (missing ones None), as the runtime's ClientContext and friends."""

    __slots__: tuple[str, ...] = ()

    def __init__(self, values: Mapping[str, Any]) -> None:
        for field in self.__slots__:
            setattr(self, field, values.get(field))

    def __repr__(self) -> str:
        return f"{type(self).__name__}([{','.join(f'{field}={getattr(self, field)}' for field in self.__slots__)}])"


class CognitoIdentity(Slots):
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")


class Client(Slots):
    __slots__ = ("installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name")


class ClientContext(Slots):
    __slots__ = ("custom", "env", "client")


W3C_FIELDS = ("traceparent", "tracestate", "baggage")


class LambdaContext:
    """The context of one invocation, with the attributes and methods of the managed runtime's."""

    def __init__(self, headers: Mapping[str, str], environ: Mapping[str, str] = os.environ) -> None:
        self.aws_request_id = headers.get("lambda-runtime-aws-request-id", "")
        self.log_group_name = environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")  # a string, as the runtime's is
        self.function_version = environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn")
        self.tenant_id = headers.get("lambda-runtime-aws-tenant-id")
        # The invocation's X-Ray header, for scope["aws.trace_id"] (sources/common.py): invocations served
        # at once each have their own, where _X_AMZN_TRACE_ID is the process's.
        self._trace_header = headers.get("lambda-runtime-trace-id")
        self._deadline_ms = int(headers.get("lambda-runtime-deadline-ms") or 0)
        client_context = json_header(headers, "lambda-runtime-client-context", "Client Context")
        w3c = client_context.pop("w3c", None) if isinstance(client_context, dict) else None
        self._w3c = {key: value for key, value in (w3c or {}).items() if key in W3C_FIELDS and isinstance(value, str)}
        self.client_context: ClientContext | None = None
        if isinstance(client_context, dict):
            self.client_context = ClientContext(client_context)
            client = self.client_context.client  # type: ignore[attr-defined]
            self.client_context.client = Client(client) if isinstance(client, dict) else None  # type: ignore[attr-defined]
        identity = json_header(headers, "lambda-runtime-cognito-identity", "Cognito Identity") or {}
        self.identity = CognitoIdentity(
            {"cognito_identity_id": identity.get("cognitoIdentityId"), "cognito_identity_pool_id": identity.get("cognitoIdentityPoolId")}
        )

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def w3c(self) -> dict[str, str]:
        """The W3C trace context the caller sent (traceparent, tracestate, baggage)."""
        return dict(self._w3c)

    def log(self, message: object) -> None:
        for handler in logging.getLogger().handlers:
            if isinstance(handler, SinkHandler):
                handler.sink.write(str(message), frame_type=None)
                return
        sys.stdout.write(str(message))

    def __repr__(self) -> str:
        fields = ("aws_request_id", "log_group_name", "log_stream_name", "function_name", "memory_limit_in_mb", "function_version")
        shown = [
            f"{field}={getattr(self, field)}" for field in (*fields, "invoked_function_arn", "client_context", "identity", "tenant_id")
        ]
        return f"LambdaContext([{','.join(shown)}])"


def json_header(headers: Mapping[str, str], name: str, label: str) -> Any:
    text = headers.get(name)
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise RuntimeFault("Runtime.LambdaContextUnmarshalError", f"Unable to parse {label} JSON: {exc}") from None
