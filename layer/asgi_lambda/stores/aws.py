"""What the DynamoDB and S3 stores share: a boto3 client made once, and boto3's errors in words."""

from __future__ import annotations

import threading
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.exceptions import ClientError  # type: ignore[import-untyped]


class LazyClient:
    """A boto3 client for one service, made on first use (in whichever thread needs it) and reused."""

    def __init__(self, service: str, *, region: str | None, endpoint_url: str | None, config: Any) -> None:
        self.service = service
        self.region = region
        self.endpoint_url = endpoint_url
        self.config = config
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
