"""The API Gateway Management API: how replies and pushes reach WebSocket clients.

POST and DELETE on `{endpoint}/@connections/{connection_id}`, signed with Signature Version 4
from the function's credentials: the environment's, which Lambda sets; elsewhere (a developer's
machine) botocore's credential chain, when botocore is installed.
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html

A small client on asyncio streams rather than boto3: importing boto3 would cost a WebSocket
function its import at every cold start, and botocore spends about a millisecond of CPU per
call, which caps how fast a broadcast can go. This one keeps connections alive, runs posts
concurrently under a bound, and signs a request in microseconds.

A 429 (throttled) or a 5xx is tried again, ATTEMPTS times in all, after a wait drawn at random
between 0 and a ceiling that starts at BACKOFF_BASE and doubles each time (exponential backoff
with full jitter, so throttled callers spread out); a Retry-After of at most BACKOFF_CAP seconds
is waited as given, a longer one ends the tries at once. So a call waits 2 s at most besides its
attempts, well inside an invocation. A 410 is Gone, any other 4xx a GatewayError, both at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import random
import ssl
import time
from typing import Any, NamedTuple
from urllib.parse import quote, urlsplit

from ..exceptions import MessageTooLarge
from ..sources.common import printable

# API Gateway refuses a message over 128 KB.
MAX_MESSAGE_BYTES = 128 * 1024
TIMEOUT_SECONDS = 10.0  # per attempt
ATTEMPTS = 3  # in all, for an answer of 429 or 5xx
BACKOFF_BASE = 0.05  # seconds: the ceiling of the first wait, doubled for each one after
BACKOFF_CAP = 1.0  # seconds: no wait is longer, whether drawn or asked for with Retry-After
MAX_ANSWER_BYTES = 64 * 1024  # an answer's body: API Gateway's are a few hundred bytes


class GatewayError(ConnectionError):
    """The Management API refused a call or could not be reached. An OSError, as ASGI 2.4 has
    a send on a closed connection raise."""


class Gone(GatewayError):
    """410 GoneException: the client has left; its connection should be forgotten."""


class MalformedAnswer(GatewayError):
    """The answer is not HTTP/1.1 as API Gateway speaks it (a bad status line, a header past the
    stream's limit, a length that is not a number or too large)."""


class Credentials(NamedTuple):
    access_key: str
    secret_key: str
    token: str | None


class ManagementAPI:
    """One endpoint (`https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`), made once per
    environment and shared by every invocation and broadcast."""

    def __init__(self, endpoint: str, *, region: str, max_connections: int = 32) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"Management API endpoint {endpoint!r} is not an http(s) URL")
        self.endpoint = endpoint.rstrip("/")
        self.region = region
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.host_header = parts.netloc
        self.base_path = parts.path.rstrip("/")
        self.tls = ssl.create_default_context() if parts.scheme == "https" else None
        self.slots = asyncio.Semaphore(max_connections)
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post(self, connection_id: str, data: bytes) -> None:
        """Send one message to one client. Raises Gone when it has left."""
        if len(data) > MAX_MESSAGE_BYTES:
            raise MessageTooLarge(
                f"message of {len(data)} bytes to {connection_id} not sent: API Gateway's limit is {MAX_MESSAGE_BYTES} bytes"
            )
        await self.call("POST", connection_id, data)

    async def delete(self, connection_id: str) -> None:
        """Close a client's connection from the server side."""
        await self.call("DELETE", connection_id, b"")

    async def close(self) -> None:
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()

    async def call(self, method: str, connection_id: str, body: bytes) -> None:
        path = f"{self.base_path}/%40connections/{quote(connection_id, safe='')}"
        where = f"{method} {self.endpoint}/@connections/{printable(connection_id)}"  # it goes into logs
        for attempt in range(1, ATTEMPTS + 1):
            request = self.request(method, path, body)  # signed anew: its date stays current
            async with self.slots:
                try:
                    status, headers, payload = await asyncio.wait_for(self.exchange(request), TIMEOUT_SECONDS)
                except MalformedAnswer as exc:
                    raise MalformedAnswer(f"{where}: {exc}") from exc
                except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
                    raise GatewayError(f"{where}: {exc!r}") from exc
            if status < 300:
                return
            if status == 410:
                raise Gone(f"connection {printable(connection_id)} is gone")
            error_type = headers.get("x-amzn-errortype", "").partition(":")[0]
            failure = " ".join(part for part in (f"{where}: {status}", error_type, payload[:200].decode(errors="replace")) if part)
            if not (status == 429 or status >= 500):
                raise GatewayError(failure)
            if attempt == ATTEMPTS:
                raise GatewayError(f"{failure} (after {ATTEMPTS} attempts)")
            wait = backoff(attempt, headers.get("retry-after"))
            if wait is None:
                raise GatewayError(
                    f"{failure} (Retry-After {headers['retry-after']} s: longer than the {BACKOFF_CAP:g} s this client waits)"
                )
            await pause(wait)  # holding no connection slot

    async def exchange(self, request: bytes) -> tuple[int, dict[str, str], bytes]:
        """Send a request on a kept-alive connection (or a new one) and read the whole response.
        A kept-alive connection the server has since closed gets one retry on a new one."""
        for attempt in (1, 2):
            reader, writer = self.idle.pop() if self.idle and attempt == 1 else await self.open()
            try:
                writer.write(request)
                await writer.drain()
                status, headers, payload, keep = await read_response(reader)
            except MalformedAnswer:  # an OSError too (GatewayError is), but not one a new connection cures
                writer.close()
                raise
            except (OSError, asyncio.IncompleteReadError):
                writer.close()
                if attempt == 2:
                    raise
                continue
            except BaseException:
                # A malformed answer, a timeout or a cancellation mid-answer: the connection is in
                # an unknown state, and is never kept.
                writer.close()
                raise
            if keep:
                self.idle.append((reader, writer))
            else:
                writer.close()
            return status, headers, payload
        raise AssertionError("unreachable")  # pragma: no cover

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(self.host, self.port, ssl=self.tls, server_hostname=self.host if self.tls else None)

    def request(self, method: str, path: str, body: bytes) -> bytes:
        now = time.gmtime()
        headers = {"host": self.host_header, "x-amz-date": time.strftime("%Y%m%dT%H%M%SZ", now)}
        found = find_credentials()
        if found.token:
            headers["x-amz-security-token"] = found.token
        headers["authorization"] = sign(method, path, headers, body, region=self.region, service="execute-api", now=now, credentials=found)
        lines = [f"{method} {path} HTTP/1.1"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines += [f"content-length: {len(body)}", "connection: keep-alive", "", ""]
        return "\r\n".join(lines).encode() + body


def backoff(retry: int, retry_after: str | None) -> float | None:
    """Seconds to wait before retry number `retry` (1, 2, ...): what Retry-After asks, if that is
    within BACKOFF_CAP (None if it asks for longer), else a draw under the exponential ceiling."""
    asked = seconds(retry_after)
    if asked is not None:
        return asked if asked <= BACKOFF_CAP else None
    return jitter(min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (retry - 1)))


def seconds(retry_after: str | None) -> float | None:
    """Retry-After as a number of seconds; None when absent, or an HTTP date (not worth parsing for waits this short)."""
    try:
        return max(float(retry_after), 0.0) if retry_after is not None else None
    except ValueError:
        return None


def jitter(ceiling: float) -> float:
    """A wait drawn evenly between 0 and the ceiling (tests replace it to know the draw)."""
    return random.uniform(0.0, ceiling)


async def pause(seconds: float) -> None:
    """Wait between attempts (tests replace it, so that they never wait)."""
    await asyncio.sleep(seconds)


def find_credentials() -> Credentials:
    """The credentials to sign with: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN,
    as Lambda sets them (read each call, and never through botocore: cheap, and current after a
    SnapStart restore); without them, botocore's chain (`chain_credentials`)."""
    access_key = os.environ.get("AWS_ACCESS_KEY_ID")
    secret_key = os.environ.get("AWS_SECRET_ACCESS_KEY")
    if access_key and secret_key:
        return Credentials(access_key, secret_key, os.environ.get("AWS_SESSION_TOKEN") or None)
    found = chain_credentials()
    if found is None:
        raise GatewayError(
            "no AWS credentials to sign Management API calls: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "or configure a profile (~/.aws/credentials, AWS_PROFILE) and install botocore"
        )
    return found


_chain: Any = None  # botocore's resolved credentials, once found: they refresh themselves


def chain_credentials() -> Credentials | None:
    """From botocore's credential chain, as boto3 would find them (a profile from AWS_PROFILE,
    ~/.aws/credentials and config, SSO, a container or instance role); None when botocore is not
    installed or the chain finds none. A chain that fails (a profile that does not exist, an SSO
    session that expired) raises GatewayError with botocore's reason."""
    global _chain
    if _chain is None:
        try:
            import botocore.exceptions  # type: ignore[import-untyped]
            import botocore.session  # type: ignore[import-untyped]
        except ImportError:
            return None
        try:
            _chain = botocore.session.Session().get_credentials()
        except botocore.exceptions.BotoCoreError as exc:
            raise GatewayError(f"AWS credentials to sign Management API calls: {exc}") from exc
        if _chain is None:
            return None
    frozen = _chain.get_frozen_credentials()  # temporary credentials are refreshed here when due
    return Credentials(frozen.access_key, frozen.secret_key, frozen.token)


def sign(
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    *,
    region: str,
    service: str,
    now: time.struct_time,
    credentials: Credentials | None = None,
) -> str:
    """The SigV4 Authorization header for a request with these (lowercase) headers, signed with
    `credentials` (default: `find_credentials()`).
    https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html"""
    access_key, secret_key, _ = credentials or find_credentials()
    date = time.strftime("%Y%m%d", now)
    signed = sorted(headers)
    canonical = "\n".join(
        [
            method,
            quote(path, safe="/~"),  # services other than S3 encode the already-encoded path again
            "",
            "".join(f"{name}:{headers[name].strip()}\n" for name in signed),
            ";".join(signed),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{headers['x-amz-date']}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = f"AWS4{secret_key}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={';'.join(signed)}, Signature={signature}"


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes, bool]:
    """Status, lowercase headers, body, and whether the connection may be reused. An answer that
    is not HTTP as API Gateway sends it raises MalformedAnswer; one cut short, IncompleteReadError."""
    status_line = await read_line(reader)
    version, _, rest = status_line.decode("latin-1").partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or not (code.isdigit() and code.isascii()) or rest[3:4] not in ("", " ", "\r"):
        raise MalformedAnswer(f"not an HTTP status line: {status_line[:100]!r}")
    status = int(code)
    headers: dict[str, str] = {}
    while (line := await read_line(reader)) != b"\r\n":
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon or len(headers) >= 100:
            raise MalformedAnswer(f"not an HTTP header line: {line[:100]!r}" if not colon else "more than 100 headers")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        received = 0
        while size := length(await read_line(reader), base=16):
            received += size
            if received > MAX_ANSWER_BYTES:
                raise MalformedAnswer(f"a body over {MAX_ANSWER_BYTES} bytes")
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        while await read_line(reader) != b"\r\n":  # trailers
            pass
        payload = b"".join(chunks)
    else:
        size = length(headers.get("content-length", "0").encode("latin-1"), base=10)
        if size > MAX_ANSWER_BYTES:
            raise MalformedAnswer(f"a body of {size} bytes, over {MAX_ANSWER_BYTES}")
        payload = await reader.readexactly(size)
    keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
    return status, headers, payload, keep


async def read_line(reader: asyncio.StreamReader) -> bytes:
    """One CRLF-ended line, within the stream's limit (64 KiB, asyncio's default)."""
    try:
        return await reader.readuntil(b"\r\n")
    except asyncio.LimitOverrunError as exc:
        raise MalformedAnswer("a line longer than 64 KiB") from exc


def length(text: bytes, *, base: int) -> int:
    """A Content-Length (base 10) or chunk size (base 16, extensions dropped)."""
    digits = text.split(b";")[0].strip()
    try:
        size = int(digits, base)
    except ValueError:
        size = -1
    if size < 0 or not digits.isalnum():
        raise MalformedAnswer(f"not a length: {text[:40]!r}")
    return size
