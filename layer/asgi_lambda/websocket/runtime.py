"""What WebSocket handling keeps for the life of the execution environment: the settings, the
store, and one Management API client per endpoint. Made once, on first use (or at init by the
zero-code bootstrap), and shared by invocations and the send API."""

from __future__ import annotations

from ..config import WebSocketSettings
from .gateway import ManagementAPI
from .stores import Store, store_class


class WebSocketRuntime:
    def __init__(self, settings: WebSocketSettings, store: Store | None = None) -> None:
        self.settings = settings
        self.store: Store = store if store is not None else store_class(settings.backend)(**settings.store_options)
        self.gateways: dict[str, ManagementAPI] = {}

    def endpoint(self, api_id: str, stage: str) -> str:
        """Where replies go: built from the API id and stage, never from the event's domainName,
        which is the custom domain when one is used and does not serve @connections."""
        if self.settings.endpoint_url:
            return self.settings.endpoint_url
        return f"https://{api_id}.execute-api.{self.settings.region}.amazonaws.com/{stage}"

    def gateway(self, endpoint: str) -> ManagementAPI:
        if endpoint not in self.gateways:
            self.gateways[endpoint] = ManagementAPI(endpoint, region=self.settings.region)
        return self.gateways[endpoint]

    async def close(self) -> None:
        for gateway in self.gateways.values():
            await gateway.close()
        await self.store.close()


_current: WebSocketRuntime | None = None


def current() -> WebSocketRuntime:
    """The environment's runtime, made from the WS_* variables the first time it is needed."""
    global _current
    if _current is None:
        _current = WebSocketRuntime(WebSocketSettings.from_environ())
    return _current


def install(runtime: WebSocketRuntime | None) -> None:
    """Use this runtime from now on (the bootstrap's, one configured in code, or None to reset)."""
    global _current
    _current = runtime
