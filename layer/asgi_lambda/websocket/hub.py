"""What WebSocket handling keeps for the life of the execution environment: the settings, the
store, and one Management API client per endpoint. An adapter configured with a store (in code,
or by the zero-code layer) has its own hub; others share the environment's, made from the WS_*
variables on first use. The send API finds the hub of the invocation it runs in.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Awaitable
from contextvars import ContextVar
from typing import Any, TypeVar

from ..exceptions import ConfigError
from ..settings.websocket import WebSocketSettings, websocket_from_environ
from ..stores import Store, registry
from .management_api import ManagementAPI

T = TypeVar("T")


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
        """Where replies go: built from the API id and stage, never from the event's domainName,
        which is the custom domain when one is used and does not serve @connections."""
        if self.settings.endpoint_url:
            return self.settings.endpoint_url
        return f"https://{api_id}.execute-api.{self.settings.region}.amazonaws.com/{stage}"

    def management_api(self, endpoint: str) -> ManagementAPI:
        if endpoint not in self.clients:
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
                "to keep connections between invocations (or give the adapter ws_config= or dsn=)."
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
