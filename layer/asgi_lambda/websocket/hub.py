"""What WebSocket handling keeps for the life of the execution environment: the settings, the
store, and one Management API client per endpoint. An adapter configured with a store (in code,
or by the zero-code layer) has its own hub; others share the environment's, made from the WS_*
variables on first use. The send API finds the hub of the invocation it runs in.
"""

from __future__ import annotations

import os
import re
import weakref
from collections.abc import Awaitable
from contextvars import ContextVar
from typing import Any, TypeVar

from ..exceptions import ConfigError
from ..settings.websocket import WebSocketSettings, websocket_from_environ
from ..stores import Store, registry
from .management_api import GatewayError, ManagementAPI

T = TypeVar("T")

# What API Gateway's own names look like: an API id is 10 lowercase letters and digits, a stage
# name letters, digits, hyphens and underscores (up to 128), a region such as eu-west-1.
API_ID = re.compile(r"[a-z0-9]{10}")
STAGE = re.compile(r"[A-Za-z0-9_-]{1,128}")
REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}")
AWS_ENDPOINT = re.compile(rf"https://{API_ID.pattern}\.execute-api\.(?P<region>{REGION.pattern})\.amazonaws\.com/{STAGE.pattern}")


class UntrustedEndpoint(GatewayError):
    """A reply would go somewhere other than API Gateway's Management API (or WS_ENDPOINT_URL): an
    event or a stored record that does not fit. Nothing is sent."""


class ConnectionHub:
    def __init__(self, settings: WebSocketSettings, store: Store | None = None) -> None:
        self.settings = settings
        if store is None:
            entry = registry.entry_for(settings.backend)
            if entry is None:
                raise ConfigError(f"WebSocket store {settings.backend!r}: expected one of {registry.names()}.")
            store = registry.load(entry)(**settings.store_options)
        self.store: Store = store
        self.clients: dict[str, ManagementAPI] = {}
        self.fanout_client: Any = None  # boto3's SQS client, made by the first broadcast that fans out (fanout.py)
        _hubs.add(self)

    def endpoint(self, api_id: str, stage: str) -> str:
        """Where replies go: WS_ENDPOINT_URL, or built from the event's API id and stage and the
        function's region, never from the event's domainName (the custom domain, when one is used,
        does not serve @connections). Parts not of API Gateway's form raise UntrustedEndpoint: the
        signed calls carry the function's access key id and session token, and must not be sent
        to a host an event names (`apiId='127.0.0.1:9999/#'`)."""
        if self.settings.endpoint_url:
            return self.settings.endpoint_url
        region = self.settings.region
        for field, value, pattern, form in (
            ("requestContext.apiId", api_id, API_ID, "10 lowercase letters and digits"),
            ("requestContext.stage", stage, STAGE, "letters, digits, - and _"),
            ("the region (AWS_REGION)", region, REGION, "such as eu-west-1"),
        ):
            if not pattern.fullmatch(value):
                raise UntrustedEndpoint(f"{field} {value!r} is not of API Gateway's form ({form}): no reply is sent for it")
        return f"https://{api_id}.execute-api.{region}.amazonaws.com/{stage}"

    def trusted(self, endpoint: str) -> str:
        """`endpoint` if replies may go there: WS_ENDPOINT_URL when set, else an API Gateway
        Management API endpoint in the function's region. A record planted in the store with an
        endpoint of its own raises UntrustedEndpoint."""
        if self.settings.endpoint_url:
            if endpoint.rstrip("/") == self.settings.endpoint_url.rstrip("/"):
                return endpoint
        else:
            found = AWS_ENDPOINT.fullmatch(endpoint)
            if found is not None and found["region"] == self.settings.region:
                return endpoint
        if self.settings.endpoint_url:
            expected = f"WS_ENDPOINT_URL ({self.settings.endpoint_url})"
        else:
            expected = f"https://{{apiId}}.execute-api.{self.settings.region}.amazonaws.com/{{stage}}"
        raise UntrustedEndpoint(f"the stored endpoint {endpoint!r} is not {expected}: nothing is sent there")

    def management_api(self, endpoint: str) -> ManagementAPI:
        """The client for `endpoint`, once it is `trusted`."""
        if endpoint not in self.clients:
            self.trusted(endpoint)
            self.clients[endpoint] = ManagementAPI(endpoint, region=self.settings.region)
        return self.clients[endpoint]

    async def close(self) -> None:
        """Close the store's and the clients' connections; the hub stays usable, and reconnects on next use."""
        for client in self.clients.values():
            await client.close()
        fanout_client, self.fanout_client = self.fanout_client, None
        if fanout_client is not None:
            fanout_client.close()
        await self.store.close()


# Every hub made in this process, so that SnapStart can close their connections before the snapshot.
_hubs: weakref.WeakSet[ConnectionHub] = weakref.WeakSet()


def every_hub() -> list[ConnectionHub]:
    """The hubs alive in this process: adapters' and the environment's."""
    return list(_hubs)


# The hub of the adapter whose invocation is running, for the send API.
CURRENT_HUB: ContextVar[ConnectionHub | None] = ContextVar("asgi_lambda_hub", default=None)

_default: ConnectionHub | None = None


def default() -> ConnectionHub:
    """The environment's hub, made from the WS_* variables the first time it is needed."""
    global _default
    if _default is None:
        if not os.environ.get("WS_BACKEND", "").strip():
            raise ConfigError(
                f"A WebSocket event arrived but WS_BACKEND is not set: set it to one of {registry.names()} "
                "to keep connections between invocations (or give the adapter ws_config= or dsn=).",
                fix="ws-backend-not-set",
            )
        _default = ConnectionHub(websocket_from_environ(os.environ))
    return _default


def install_default(hub: ConnectionHub | None) -> None:
    """Use this hub as the environment's from now on (None: make it from WS_* again when needed)."""
    global _default
    _default = hub


def current() -> ConnectionHub:
    """The hub of the running invocation's adapter, else the environment's."""
    return CURRENT_HUB.get() or default()


async def serving(hub: ConnectionHub, work: Awaitable[T]) -> T:
    """Run `work` (the app) with `hub` as the send API's, in this task's context only."""
    CURRENT_HUB.set(hub)
    return await work
