"""Plumbing shared by the event sources: bodies, paths, headers and the response shapes.

Cold start counts, so this imports no more of the standard library than asyncio already
has: the percent codec below replaces urllib.parse, whose import (with ipaddress) costs
about 2 ms.

Response formats:
- https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
- https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
- https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html
"""

from __future__ import annotations

import binascii
import os
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .fields import FieldError, Unfit

if TYPE_CHECKING:
    from ..settings import Settings
    from ..types import Headers, Response

# Lambda refuses a synchronous response payload over 6 MB (measured on the JSON it carries).
LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024

# Statuses that never carry a body (RFC 9110), nor does any answer to HEAD.
BODYLESS_STATUSES = frozenset({204, 304})


# --- percent-encoding -----------------------------------------------------------------

_HEX_DIGITS = frozenset("0123456789ABCDEFabcdef")
_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"


def _escapes(safe: str, *, space: str = "%20") -> tuple[str, ...]:
    """str.translate's table for latin-1 code points: the safe ones as they are, the rest escaped.
    Every code point has its entry: for one missing, translate would raise and catch a KeyError."""
    keep = set(map(ord, safe))
    table = [chr(byte) if byte in keep else f"%{byte:02X}" for byte in range(256)]
    table[ord(" ")] = space
    return tuple(table)


# RFC 3986 path characters stay as they are; query values are encoded like HTML forms
# (urllib's quote_plus): only unreserved characters stay, and a space becomes "+".
PATH_ESCAPES = _escapes(_UNRESERVED + "/!$&'()*+,;=:@")
QUERY_ESCAPES = _escapes(_UNRESERVED, space="+")


def percent_encode(text: str, escapes: tuple[str, ...]) -> str:
    if text.isascii():  # most paths: ASCII is its own UTF-8
        return text.translate(escapes)
    # Escape the UTF-8 bytes: decoding them as latin-1 gives one code point per byte.
    return text.encode().decode("latin-1").translate(escapes)


def percent_decode(text: str) -> str:
    """Decode %XX escapes as UTF-8, keeping malformed ones as they are (as urllib's unquote)."""
    if "%" not in text:
        return text
    head, *parts = text.split("%")
    decoded = bytearray(head.encode())
    for part in parts:
        if len(part) >= 2 and part[0] in _HEX_DIGITS and part[1] in _HEX_DIGITS:
            decoded.append(int(part[:2], 16))
            decoded += part[2:].encode()
        else:
            decoded += b"%" + part.encode()
    return decoded.decode("utf-8", "replace")


def encoded_query(params: Mapping[str, str | list[str]]) -> bytes:
    """A query string from decoded parameters (REST APIs decode them), repeats kept in order."""
    pairs = []
    for key, values in params.items():
        name = percent_encode(key, QUERY_ESCAPES)
        for value in [values] if isinstance(values, str) else values:
            pairs.append(f"{name}={percent_encode(value, QUERY_ESCAPES)}")
    return "&".join(pairs).encode()


# --- request side -------------------------------------------------------------------


def decode_body(body: str | None, *, is_base64: bool) -> bytes:
    """The request body as bytes; AWS sends binary bodies base64-encoded."""
    if not body:
        return b""
    if is_base64:
        try:
            return binascii.a2b_base64(body, strict_mode=True)
        except binascii.Error as exc:
            raise FieldError("body", "base64, since the event is marked isBase64Encoded", f"not valid base64 ({exc})") from None
    return body.encode()


def under(path: str, prefix: str) -> bool:
    """Whether `path` lies under `prefix` on a segment boundary ("/api" is under "/api", "/apiary" is not)."""
    return bool(prefix) and path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/")


def root_path_for(path: str, *, stage: str | None, base_path: str) -> str:
    """The prefix the app is mounted under: the stage prefix where the path carries one (API
    Gateway's named stages), then the user's `api_gateway_base_path`, each on a segment boundary.

    `path` itself keeps the whole path, as the ASGI spec and uvicorn have it: frameworks
    (Starlette, Django, Quart) remove `root_path` when they route, and build URLs from both.
    """
    prefix = ""
    if stage and stage != "$default" and under(path, f"/{stage}"):
        prefix = f"/{stage}"
    if base_path and base_path != prefix and under(path[len(prefix) :], base_path):
        prefix += base_path
    return prefix


def strip_root_path(scope: dict[str, Any]) -> None:
    """`strip_root_path`: `path` and `raw_path` without the mount point, `root_path` kept, for
    frameworks that route on the whole path (Falcon on `path`, Sanic on `raw_path`).

    `raw_path` loses the mount point as the client encoded it (its first segments, as many as
    `root_path` has), so an encoded `%2F` further on stays; where those segments do not decode
    to `root_path` (a `%2F` inside the mount point), it is the new `path`, encoded again.
    """
    root_path = scope.get("root_path")
    if not root_path:
        return
    path = scope["path"][len(root_path) :] or "/"
    scope["path"] = path
    raw_path = scope.get("raw_path")
    if raw_path:
        segments = root_path.count("/") + 1  # "/prod" is "" and "prod"
        mount = b"/".join(raw_path.split(b"/", segments)[:segments])
        if percent_decode(mount.decode("utf-8", "replace")) == root_path:
            scope["raw_path"] = raw_path[len(mount) :] or b"/"
        else:
            scope["raw_path"] = percent_encode(path, PATH_ESCAPES).encode()


def header_pairs(headers: Mapping[str, str] | None, multi_value_headers: Mapping[str, list[str]] | None) -> Headers:
    """ASGI header pairs, names lowercased, every repeated value its own pair."""
    if multi_value_headers:
        pairs: Headers = []
        append = pairs.append
        for name, values in multi_value_headers.items():
            if type(values) is not list:  # a string would be read letter by letter
                raise Unfit
            key = name.lower().encode()
            for value in values:
                append((key, value.encode()))
        return pairs
    if headers:
        return [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    return []


def lowercase_lookup(headers: Mapping[str, str] | None, multi_value_headers: Mapping[str, list[str]] | None) -> dict[str, str]:
    """First value of each header by lowercase name, for the few the scope reads."""
    if multi_value_headers:
        return {name.lower(): values[0] for name, values in multi_value_headers.items() if values}
    return {name.lower(): value for name, value in (headers or {}).items()}


def server_and_scheme(headers: Mapping[str, str], *, domain_name: str | None) -> tuple[tuple[str, int] | None, str]:
    """`server` and `scheme` from Host and the X-Forwarded-* headers the AWS front end sets
    (`headers` keyed by lowercase name)."""
    scheme = headers.get("x-forwarded-proto", "https").lower()
    host = headers.get("host") or domain_name
    if not host:
        return None, scheme
    if ":" in host:
        name, _, port = host.rpartition(":")
        if port.isdigit():  # "[::1]:8080" splits right; "[::1]" has no digits after ":"
            return (name, int(port)), scheme
    forwarded_port = headers.get("x-forwarded-port", "")
    if forwarded_port.isdigit():
        return (host, int(forwarded_port)), scheme
    return (host, 443 if scheme == "https" else 80), scheme


# os.environ's own dict of bytes, where the environment is bytes (POSIX, as on Lambda): os.environ.get
# is four Python calls, and an exception when the variable is unset, about 1 µs a request. Its
# setters (the runtime client's, monkeypatch.setenv) keep this dict current; values are decoded as
# os.environ decodes them.
ENVIRON: Mapping[bytes, bytes] | None = getattr(os.environ, "_data", None) if os.supports_bytes_environ else None
FS_ENCODING = sys.getfilesystemencoding()
_FROM_ENVIRONMENT = object()


def trace_id(context: Any = None) -> str | None:
    """The invocation's X-Ray trace id, the Root of its header ("Root=1-5759e988-bd862e3fe1be46a994272793;
    Parent=...;Sampled=1"): the id X-Ray's console and Powertools' `xray_trace_id` log key show. None
    when the runtime sent none. The layer's runtime client's context carries the header
    (`_trace_header`): invocations served at once each have their own. Otherwise it is read from
    _X_AMZN_TRACE_ID, where the runtime client puts it before each invocation."""
    carried: Any = getattr(context, "_trace_header", _FROM_ENVIRONMENT)
    if carried is not _FROM_ENVIRONMENT:
        header: str | None = carried
    elif ENVIRON is None:
        header = os.environ.get("_X_AMZN_TRACE_ID")
    else:
        raw = ENVIRON.get(b"_X_AMZN_TRACE_ID")
        header = raw.decode(FS_ENCODING, "surrogateescape") if raw is not None else None
    if not header:
        return None
    if header.startswith("Root="):  # where Lambda puts it
        return header[5:].partition(";")[0] or None
    for field in header.split(";"):
        if field.startswith("Root="):
            return field[5:] or None
    return None


def http_version(protocol: str | None) -> str:
    """ASGI's `http_version` ("1.0", "1.1", "2") from a request context's `protocol`."""
    if protocol == "HTTP/1.1" or not protocol:  # the commonest, at once
        return "1.1"
    version = protocol.rpartition("/")[2]
    return "2" if version.startswith("2") else version or "1.1"


def http_scope(
    *,
    event: Mapping[str, Any],
    context: Any,
    method: str,
    path: str,
    raw_path: str,
    root_path: str,
    query_string: bytes,
    headers: Headers,
    lookup: Mapping[str, str],
    client_ip: str | None,
    protocol: str | None,
    domain_name: str | None,
) -> dict[str, Any]:
    """The ASGI HTTP scope every source builds, from the fields it has mapped."""
    server, scheme = server_and_scheme(lookup, domain_name=domain_name)
    scope = {
        "type": "http",
        # 2.4: send() would raise OSError after a disconnect. Lambda has none mid-request,
        # and saying so spares Starlette a disconnect-listener task per response.
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": http_version(protocol),
        "method": method,
        "scheme": scheme,
        "path": path,
        "raw_path": raw_path.encode(),
        "root_path": root_path,
        "query_string": query_string,
        "headers": headers,
        "client": (client_ip, 0) if client_ip else None,
        "server": server,
        "aws.event": event,
        "aws.context": context,
        "aws.trace_id": trace_id(context),
    }
    tenant = getattr(context, "tenant_id", None)  # a function with tenant isolation: the invocation's tenant
    if tenant is not None:
        scope["aws.tenant_id"] = tenant
    return scope


# --- response side ------------------------------------------------------------------


def response_body(response: Response, *, method: str, settings: Settings) -> tuple[str, bool]:
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
    if not encoded and settings.text_mime_types.is_text(content_type):
        try:
            return body.decode(), False
        except UnicodeDecodeError:
            pass
    return binascii.b2a_base64(body, newline=False).decode(), True


def multi_value_headers(headers: Iterable[tuple[bytes, bytes]], *, exclude: frozenset[str]) -> dict[str, list[str]]:
    """Multi-value ALB: every value kept, Set-Cookie included."""
    shaped: dict[str, list[str]] = {}
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        if name not in exclude:
            shaped.setdefault(name, []).append(raw_value.decode("latin-1"))
    return shaped


def split_value_headers(headers: Iterable[tuple[bytes, bytes]], *, exclude: frozenset[str]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Payload 1.0 (REST, HTTP API 1.0), in Mangum's shape: a name sent once goes to `headers`, a
    repeated one (every Set-Cookie kept) to `multiValueHeaders` only. API Gateway merges the two,
    so each value goes out once, and a user's `response["headers"]["content-type"]` still works."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        if name in exclude:
            continue
        value = raw_value.decode("latin-1")
        if name in multi:
            multi[name].append(value)
        elif name in single:
            multi[name] = [single.pop(name), value]
        else:
            single[name] = value
    return single, multi


def joined_headers_and_cookies(headers: Iterable[tuple[bytes, bytes]], *, exclude: frozenset[str]) -> tuple[dict[str, str], list[str]]:
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


def single_value_headers(headers: Iterable[tuple[bytes, bytes]], *, exclude: frozenset[str]) -> tuple[dict[str, str], int]:
    """Where each name holds one string (single-value ALB, VPC Lattice): repeats of a list header
    comma-joined (RFC 9110 allows it). Set-Cookie cannot be joined, so each cookie goes under a
    differently cased name, which HTTP treats as the same header (as Mangum does). Returns the
    headers and how many cookies they carry."""
    shaped, cookies = joined_headers_and_cookies(headers, exclude=exclude)
    if len(cookies) > MAX_CASED_COOKIES:
        # Past the last casing, cookies would overwrite one another silently: keep what fits, and say so.
        import logging

        logging.getLogger("asgi_lambda.sources").error(
            "The response sets %d cookies, but single-value headers (ALB without multi-value headers, VPC Lattice) carry "
            "at most %d, one per casing of Set-Cookie; the first %d are sent, the other %d dropped.",
            len(cookies),
            MAX_CASED_COOKIES,
            MAX_CASED_COOKIES,
            len(cookies) - MAX_CASED_COOKIES,
        )
        cookies = cookies[:MAX_CASED_COOKIES]
    for index, cookie in enumerate(cookies):
        shaped[cased("set-cookie", index)] = cookie
    return shaped, len(cookies)


# The distinct casings of "set-cookie": each of its 9 letters upper or lower.
MAX_CASED_COOKIES = 2**9


def cased(name: str, index: int) -> str:
    """The `index`-th distinct casing of `name`: 0 is all lowercase, each bit uppercases a letter."""
    letters = [i for i, char in enumerate(name) if char.isalpha()]
    chars = list(name)
    for bit, position in enumerate(letters):
        if index >> bit & 1:
            chars[position] = chars[position].upper()
    return "".join(chars)


def forwarded_client(headers: Headers) -> str | None:
    """For ALB and VPC Lattice, which have no source IP field: each appends the peer's address to
    X-Forwarded-For, so only the last entry is its word (earlier ones are the client's to invent)."""
    values = [value for name, value in headers if name == b"x-forwarded-for"]
    if not values:
        return None
    return values[-1].decode("latin-1").rpartition(",")[2].strip() or None


def reason_phrase(status: int) -> str:
    """HTTP's phrase for a status ("Not Found"), "" for one it has none for."""
    from http import HTTPStatus  # here: only the sources that need it pay for importing it

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def status_description(status: int) -> str:
    """ALB's statusDescription: "200 OK"."""
    return f"{status} {reason_phrase(status)}".rstrip()


def printable(value: str) -> str:
    """`value` as a text log line shows it: control characters (and the other unprintable ones, such
    as U+2028) escaped, so that a path with %0a in it cannot print a second, made-up line. JSON logs
    escape them already; the fields under `extra` stay as they are."""
    if value.isprintable():  # the common case: one pass in C, nothing copied
        return value
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in value)
