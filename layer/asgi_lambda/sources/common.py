"""Plumbing shared by the event sources: bodies, paths, headers and the three header shapes.

Header shaping follows the response formats AWS documents for each source:
- https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
- https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
- https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple
from urllib.parse import quote, unquote

from ..exceptions import UnknownEventError
from ..types import Headers, Response

logger = logging.getLogger("asgi_lambda.sources")

# Media types whose bodies go out as text. An entry matches when it occurs in the
# response's media type (parameters dropped), as in Mangum, so "text/" covers text/html
# and "+json" covers application/problem+json. Users' `text_mime_types` extend this.
DEFAULT_TEXT_MIME_TYPES: tuple[str, ...] = (
    "text/",
    "application/json",
    "+json",
    "application/xml",
    "+xml",
    "application/javascript",
    "application/ecmascript",
    "application/x-www-form-urlencoded",
    "application/graphql",
    "application/yaml",
    "application/x-yaml",
    "application/vnd.oai.openapi",
    "image/svg+xml",
)

# Lambda refuses a synchronous response payload over 6 MB (measured on the JSON it carries).
LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024

# Statuses that never carry a body (RFC 9110), nor does any answer to HEAD.
BODYLESS_STATUSES = frozenset({204, 304})


class SourceConfig(NamedTuple):
    """The adapter's options as the sources need them, normalised once."""

    base_path: str  # "" or "/segment[/segment...]", no trailing slash
    text_mime_types: tuple[str, ...]
    exclude_headers: frozenset[str]


class Request(NamedTuple):
    """An event turned into what the app needs: the ASGI scope and the whole body."""

    scope: dict[str, Any]
    body: bytes


# --- request side -------------------------------------------------------------------


def decode_body(body: str | None, *, is_base64: bool) -> bytes:
    """The request body as bytes; AWS sends binary bodies base64-encoded."""
    if not body:
        return b""
    if is_base64:
        try:
            return base64.b64decode(body, validate=True)
        except binascii.Error as exc:
            raise UnknownEventError(f"The event's 'body' is marked isBase64Encoded but is not valid base64: {exc}") from None
    return body.encode()


def under(path: str, prefix: str) -> bool:
    """Whether `path` lies under `prefix` on a segment boundary ("/api" is under "/api", "/apiary" is not)."""
    return bool(prefix) and path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/")


def path_fields(encoded_path: str, *, stage: str | None, base_path: str) -> dict[str, Any]:
    """The scope's `path`, `raw_path` and `root_path` for a percent-encoded path.

    `path` keeps the whole path the client asked for, as the ASGI spec and uvicorn do:
    frameworks (Starlette, Django, Quart) remove `root_path` themselves when they route,
    and build URLs from both. `root_path` is the stage prefix where the path carries one
    (API Gateway's named stages), then the user's `api_gateway_base_path`, each honoured
    only on a segment boundary.
    """
    encoded_path = encoded_path or "/"
    path = unquote(encoded_path)
    root_path = ""
    if stage and stage != "$default" and under(path, f"/{stage}"):
        root_path = f"/{stage}"
    if base_path and base_path != root_path and under(path[len(root_path) :], base_path):
        root_path += base_path
    return {"path": path, "raw_path": encoded_path.encode(), "root_path": root_path}


def encode_decoded_path(path: str) -> str:
    """Re-encode a path that AWS delivered already decoded (HTTP APIs do), so that `raw_path`
    is a valid request target. The original bytes are lost there: `%2F` arrives as `/`."""
    return quote(path, safe="/!$&'()*+,;=:@")


def header_pairs(headers: Mapping[str, str] | None, multi_value_headers: Mapping[str, list[str]] | None) -> Headers:
    """ASGI header pairs, names lowercased, every repeated value its own pair."""
    if multi_value_headers:
        return [(name.lower().encode(), value.encode()) for name, values in multi_value_headers.items() for value in values or ()]
    if headers:
        return [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    return []


def first_values(pairs: Headers) -> dict[bytes, bytes]:
    """The first value of each header, for the few the scope reads (host, x-forwarded-*)."""
    found: dict[bytes, bytes] = {}
    for name, value in pairs:
        found.setdefault(name, value)
    return found


def server_and_scheme(headers: Mapping[bytes, bytes], *, domain_name: str | None) -> tuple[tuple[str, int] | None, str]:
    """`server` and `scheme` from Host and the X-Forwarded-* headers the AWS front end sets."""
    scheme = headers.get(b"x-forwarded-proto", b"https").decode("latin-1").lower()
    host = headers.get(b"host", b"").decode("latin-1") or domain_name
    if not host:
        return None, scheme
    port_header = headers.get(b"x-forwarded-port")
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit() and not port.endswith("]"):
        return (name, int(port)), scheme
    if port_header and port_header.isdigit():
        return (host, int(port_header)), scheme
    return (host, 443 if scheme == "https" else 80), scheme


def http_version(protocol: str | None) -> str:
    """ASGI's `http_version` ("1.0", "1.1", "2") from a request context's `protocol`."""
    if not protocol:
        return "1.1"
    version = protocol.rpartition("/")[2]
    return "2" if version.startswith("2") else version or "1.1"


def require(mapping: Mapping[str, Any], key: str, *, where: str) -> Any:
    """A field the event format requires; its absence is a malformed event, named as such."""
    try:
        return mapping[key]
    except (KeyError, TypeError):
        raise UnknownEventError(f"The {where} event has no '{key}' field; it does not match the documented format.") from None


# --- response side ------------------------------------------------------------------


def response_body(response: Response, *, method: str, config: SourceConfig) -> tuple[str, bool]:
    """The body as Lambda carries it: text where the content type allows, else base64.

    Text only when the media type is a text type and no Content-Encoding applies (a
    gzipped JSON body is binary) and the bytes are valid UTF-8, since AWS turns the
    JSON string back into UTF-8 bytes.
    """
    body = response["body"]
    if not body or method == "HEAD" or response["status"] in BODYLESS_STATUSES:
        return "", False
    content_type = b""
    encoded = False
    for name, value in response["headers"]:
        lowered = name.lower()
        if lowered == b"content-type":
            content_type = value
        elif lowered == b"content-encoding" and value.strip().lower() != b"identity":
            encoded = True
    if not encoded and is_text(content_type, config.text_mime_types):
        try:
            return body.decode(), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode(), True


def is_text(content_type: bytes, text_mime_types: Iterable[str]) -> bool:
    media_type = content_type.split(b";", 1)[0].strip().lower().decode("latin-1")
    return bool(media_type) and any(entry in media_type for entry in text_mime_types)


def multi_value_headers(headers: Headers, *, exclude: frozenset[str]) -> dict[str, list[str]]:
    """REST (payload 1.0) and multi-value ALB: every value kept, Set-Cookie included."""
    shaped: dict[str, list[str]] = {}
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        if name not in exclude:
            shaped.setdefault(name, []).append(raw_value.decode("latin-1"))
    return shaped


def joined_headers_and_cookies(headers: Headers, *, exclude: frozenset[str]) -> tuple[dict[str, str], list[str]]:
    """Payload 2.0: repeats comma-joined, as RFC 9110 allows for list headers; Set-Cookie, which
    cannot be joined, goes to `cookies`."""
    shaped: dict[str, str] = {}
    cookies: list[str] = []
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        if name in exclude:
            continue
        value = raw_value.decode("latin-1")
        if name == "set-cookie":
            cookies.append(value)
        elif name in shaped:
            shaped[name] = f"{shaped[name]}, {value}"
        else:
            shaped[name] = value
    return shaped, cookies


def http_scope(
    *,
    event: Mapping[str, Any],
    context: Any,
    method: str,
    headers: Headers,
    path: dict[str, Any],
    query_string: bytes,
    client_ip: str | None,
    protocol: str | None,
    domain_name: str | None,
) -> dict[str, Any]:
    """The ASGI HTTP scope every source builds, from the fields it has mapped."""
    server, scheme = server_and_scheme(first_values(headers), domain_name=domain_name)
    return {
        "type": "http",
        # 2.4: send() would raise OSError after a disconnect. Lambda has none mid-request,
        # and saying so spares Starlette a disconnect-listener task per response.
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": http_version(protocol),
        "method": method.upper(),
        "scheme": scheme,
        **path,
        "query_string": query_string,
        "headers": headers,
        "client": (client_ip, 0) if client_ip else None,
        "server": server,
        "aws.event": event,
        "aws.context": context,
    }
