"""What the DynamoDB and S3 stores share: a boto3 client made once, its requests tried once more on
a new client, and boto3's errors in words.

botocore's standard retry mode already sends a request once more (CONFIG's max_attempts) on
throttling, a 5xx, a timeout or a lost connection. Whatever else fails, of any kind (a connection
botocore could not make twice, an error from urllib3 or from reading a body, a client left
unusable), gets one more try on a new client. Not tried again: AWS's own answer (a ClientError,
such as a missing table, is the same on any client) and timeouts (botocore has waited twice).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import boto3  # type: ignore[import-untyped]
from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError  # type: ignore[import-untyped]

from . import StoreUnavailable

T = TypeVar("T")

_NOT_AGAIN = (ClientError, ConnectTimeoutError, ReadTimeoutError)


class LazyClient:
    """A boto3 client for one service, made on first use (in whichever thread needs it) and reused;
    `unavailable` words a failure as the store's StoreUnavailable."""

    def __init__(
        self,
        service: str,
        *,
        region: str | None,
        endpoint_url: str | None,
        config: Any,
        unavailable: Callable[[Exception], StoreUnavailable],
    ) -> None:
        self.service = service
        self.region = region
        self.endpoint_url = endpoint_url
        self.config = config
        self.unavailable = unavailable
        self.client: Any = None
        self.lock = threading.Lock()

    def get(self) -> Any:
        if self.client is None:
            with self.lock:
                if self.client is None:
                    # Its own session: boto3's default session is not safe to build clients on from threads.
                    self.client = boto3.session.Session().client(
                        self.service, region_name=self.region, endpoint_url=self.endpoint_url, config=self.config
                    )
        return self.client

    def call(self, request: Callable[[Any], T]) -> T:
        """`request` (boto3's calls only) on the client, once more on a new client if it fails (blocking)."""
        client = self.get()
        try:
            return request(client)
        except _NOT_AGAIN:
            raise
        except Exception:
            # Not closed: other threads may be in the middle of a request on it; it goes with its last user.
            with self.lock:
                if self.client is client:
                    self.client = None
            return request(self.get())

    def request(self, method: str, /, **parameters: Any) -> dict[str, Any]:
        """One request by the client method's name, tried as `call` tries it; any failure is a StoreUnavailable."""
        try:
            response: dict[str, Any] = self.call(lambda client: getattr(client, method)(**parameters))
        except Exception as exc:
            raise self.unavailable(exc) from exc
        return response

    def where(self) -> str:
        """Where the store looked: the region, and the endpoint when one is set."""
        region = self.client.meta.region_name if self.client is not None else self.region
        where = f"in region {region}" if region else "with no region set (AWS_DEFAULT_REGION)"
        return f"{where} at {self.endpoint_url}" if self.endpoint_url else where


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ClientError ("NoSuchBucket"), "" for other errors."""
    return str(exc.response.get("Error", {}).get("Code", "")) if isinstance(exc, ClientError) else ""


def cause(exc: BaseException) -> str:
    """The error in words: AWS's code and message, or the exception's type and text."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, message = error.get("Code", ""), error.get("Message", "")
        return f"{code}: {message}" if message else str(code)
    return f"{type(exc).__name__}: {exc}"
