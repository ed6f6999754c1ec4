"""Response compression (ASGI_COMPRESSION=1, `compression=True`): gzip, or brotli where the client
ranks it at least as high as gzip and the `brotli` module is importable.

Imported only when compression is on: a function without it never loads this module or zlib.

A response is compressed when all of these hold (`Compression.plan`):
- the request's Accept-Encoding accepts gzip or br (q > 0; RFC 9110's rules: a coding named
  outright wins over `*`, `identity;q=0` says nothing of gzip);
- the app set no Content-Encoding (`identity` aside), no Content-Range, no `Cache-Control: no-transform`;
- the media type is compressible: text/*, JSON, JavaScript, XML, SVG, and any +json or +xml type;
- it has a body: not an answer to HEAD, not 1xx, 204 or 304;
- the body is at least `min_bytes` (buffered), or its Content-Length, if it sends one, is (streamed).

It then carries `Content-Encoding`, `Vary: Accept-Encoding` (added to the app's own Vary), a weak
ETag (the compressed bytes are another representation), and no Content-Length (each front door
counts the body it sends). A response that qualifies but whose client accepts neither coding gets
the Vary header alone, so that a cache keeps the two apart.

Buffered, the body is compressed whole, and kept as it was if that does not make it smaller.
Streamed, each chunk is compressed and flushed as it comes (gzip's Z_SYNC_FLUSH, brotli's flush),
so each arrives as soon as the app sends it: Server-Sent Events stay events.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Any

from ..sources.common import BODYLESS_STATUSES

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..types import Headers, Response
    from .http_cycle import HTTPCycle, ResponseStream

    Encoder = Callable[[bytes, bool], bytes]

# Measured on a 1 MB JSON answer (benchmarks/compression.py): gzip's level 3 is within 5% of level 6's
# size (zlib's default) in half its time; level 9 takes 4 times longer for 5% less. Brotli's quality 4
# makes it a third of gzip's size in about gzip 6's time; its own default, 11, is meant for files
# compressed once, and takes some 50 times longer.
GZIP_LEVEL = 3
BROTLI_QUALITY = 4
GZIP_WBITS = 31  # deflate in a gzip wrapper (16 + 15), with no file name and a zero time: the same bytes each time

COMPRESSIBLE_TYPES = frozenset(
    {
        "application/json",
        "application/javascript",
        "application/ecmascript",
        "application/x-javascript",
        "application/xml",
        "image/svg+xml",
    }
)
COMPRESSIBLE_SUFFIXES = ("+json", "+xml")

# The codings a response may carry, best first when the client weighs them alike (as CloudFront does).
CODINGS = ("br", "gzip")
ALIASES = {"x-gzip": "gzip"}  # RFC 9110 8.4.1.3: to be taken as gzip


class Compression:
    """What one adapter compresses, and how: made once, at init, when compression is on."""

    __slots__ = ("min_bytes", "brotli", "accepted", "compressible")

    def __init__(self, min_bytes: int) -> None:
        self.min_bytes = min_bytes
        self.brotli = load_brotli()
        # Clients send few distinct Accept-Encoding values, and apps few Content-Types: each is judged once.
        self.accepted: dict[bytes, str | None] = {}
        self.compressible: dict[bytes, bool] = {}

    def buffered(self, scope: dict[str, Any], response: Response) -> Response:
        """The response compressed, when it qualifies; else as it was (with Vary if only the client refused)."""
        body = response["body"]
        if not body or len(body) < self.min_bytes or not self.qualifies(scope, response["status"], response["headers"]):
            return response
        coding = self.coding(scope)
        if coding is not None:
            compressed = self.compress(body, coding)
            if len(compressed) < len(body):
                return {"status": response["status"], "headers": encoded_headers(response["headers"], coding), "body": compressed}
        return {"status": response["status"], "headers": varied(response["headers"]), "body": body}

    def streamed(self, scope: dict[str, Any], stream: ResponseStream) -> CompressedStream:
        """`stream`, with each chunk compressed on the way when the response qualifies."""
        return CompressedStream(self, scope, stream)

    def qualifies(self, scope: dict[str, Any], status: int, headers: Headers) -> bool:
        """Whether a response like this one is compressed for a client that accepts it."""
        if scope["method"] == "HEAD" or status < 200 or status in BODYLESS_STATUSES:
            return False
        content_type = b""
        for name, value in headers:
            lowered = name.lower()
            if lowered == b"content-type":
                content_type = value
            elif lowered == b"content-encoding":
                if value.strip().lower() != b"identity":
                    return False
            elif lowered == b"content-range":
                return False
            elif lowered == b"cache-control" and b"no-transform" in value.lower():
                return False
        return self.is_compressible(content_type)

    def is_compressible(self, content_type: bytes) -> bool:
        seen = self.compressible
        if content_type not in seen:
            if len(seen) > 256:
                seen.clear()
            media_type = content_type.split(b";", 1)[0].strip().lower().decode("latin-1")
            seen[content_type] = (
                media_type.startswith("text/") or media_type in COMPRESSIBLE_TYPES or media_type.endswith(COMPRESSIBLE_SUFFIXES)
            )
        return seen[content_type]

    def coding(self, scope: dict[str, Any]) -> str | None:
        """The coding to answer this request with: "br", "gzip", or None (its Accept-Encoding takes neither)."""
        header = b", ".join(value for name, value in scope["headers"] if name == b"accept-encoding")
        accepted = self.accepted
        if header not in accepted:
            if len(accepted) > 256:
                accepted.clear()
            accepted[header] = preferred(header.decode("latin-1"), brotli=self.brotli is not None)
        return accepted[header]

    def compress(self, body: bytes, coding: str) -> bytes:
        if coding == "br":
            compressed: bytes = self.brotli.compress(body, quality=BROTLI_QUALITY)
            return compressed
        return zlib.compress(body, GZIP_LEVEL, wbits=GZIP_WBITS)

    def encoder(self, coding: str) -> Encoder:
        """A streamed body's encoder: each chunk in, its compressed bytes out, flushed; the last ends it."""
        if coding == "br":
            brotli = self.brotli.Compressor(quality=BROTLI_QUALITY)

            def encode_br(body: bytes, last: bool) -> bytes:
                data: bytes = brotli.process(body) if body else b""
                if last:
                    data += brotli.finish()
                elif body:
                    data += brotli.flush()
                return data

            return encode_br
        gzip = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, GZIP_WBITS)

        def encode_gzip(body: bytes, last: bool) -> bytes:
            data = gzip.compress(body) if body else b""
            if last:
                return data + gzip.flush(zlib.Z_FINISH)
            return data + gzip.flush(zlib.Z_SYNC_FLUSH) if body else b""

        return encode_gzip


class CompressedStream:
    """A `ResponseStream` around another: at `http.response.start` it decides (Content-Length, if
    the app sends one, stands for the body's size), then compresses and flushes each chunk before
    the stream under it writes it. The rest is the stream's own."""

    __slots__ = ("compression", "scope", "inner", "encode")

    def __init__(self, compression: Compression, scope: dict[str, Any], inner: ResponseStream) -> None:
        self.compression = compression
        self.scope = scope
        self.inner = inner
        self.encode: Encoder | None = None

    @property
    def status(self) -> int:
        return self.inner.status

    @status.setter
    def status(self, value: int) -> None:
        self.inner.status = value

    @property
    def gone(self) -> bool:
        return self.inner.gone

    @gone.setter
    def gone(self, value: bool) -> None:
        self.inner.gone = value

    @property
    def ended(self) -> bool:
        return self.inner.ended

    @ended.setter
    def ended(self, value: bool) -> None:
        self.inner.ended = value

    @property
    def on_gone(self) -> Callable[[], None]:
        return self.inner.on_gone

    @on_gone.setter
    def on_gone(self, value: Callable[[], None]) -> None:
        self.inner.on_gone = value

    async def start(self, status: int, headers: Headers) -> None:
        compression = self.compression
        if compression.qualifies(self.scope, status, headers) and not shorter(headers, compression.min_bytes):
            coding = compression.coding(self.scope)
            if coding is None:
                headers = varied(headers)
            else:
                headers = encoded_headers(headers, coding)
                self.encode = compression.encoder(coding)
        await self.inner.start(status, headers)

    async def write(self, body: bytes, *, last: bool) -> None:
        if self.encode is not None:
            body = self.encode(body, last)
        await self.inner.write(body, last=last)

    async def conclude(self, cycle: HTTPCycle, response: Response) -> None:
        # Nothing went out yet (the app failed first): the stream answers the 500 itself, as it is.
        await self.inner.conclude(cycle, response)


def preferred(header: str, *, brotli: bool) -> str | None:
    """The coding an Accept-Encoding value asks for among those we have: the one of highest weight,
    br before gzip when they tie; None when neither is acceptable (q=0, or not named and no `*`).
    An element whose weight is malformed is left out, as if the client had not sent it."""
    weights: dict[str, float] = {}
    for element in header.split(","):
        coding, _, parameters = element.partition(";")
        coding = coding.strip().lower()
        if not coding:
            continue
        weight = weight_of(parameters)
        if weight is not None:
            coding = ALIASES.get(coding, coding)
            weights[coding] = max(weight, weights.get(coding, 0.0))
    anything = weights.get("*", 0.0)
    best, best_weight = None, 0.0
    for coding in CODINGS:
        if coding == "br" and not brotli:
            continue
        weight = weights.get(coding, anything)
        if weight > best_weight:
            best, best_weight = coding, weight
    return best


def weight_of(parameters: str) -> float | None:
    """An element's q parameter (RFC 9110 12.4.2: 0 to 1, three decimals at most): 1 without one, None if malformed."""
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            value = value.strip()
            whole, _, decimals = value.partition(".")
            if whole not in ("0", "1") or len(decimals) > 3 or decimals.strip("0123456789"):
                return None
            if whole == "1" and decimals.strip("0"):
                return None
            return float(value)
    return 1.0


def shorter(headers: Headers, size: int) -> bool:
    """Whether the response says (Content-Length) its body is under `size` bytes."""
    for name, value in headers:
        if name.lower() == b"content-length":
            length = value.strip()
            return length.isdigit() and int(length) < size
    return False


def encoded_headers(headers: Headers, coding: str) -> Headers:
    """The app's headers for the compressed body: Content-Length gone, ETag weak, Content-Encoding
    and Vary set."""
    kept: Headers = []
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-length" or lowered == b"content-encoding":
            continue
        if lowered == b"etag" and not value.lstrip().startswith(b"W/"):
            value = b"W/" + value.lstrip()
        kept.append((name, value))
    kept.append((b"content-encoding", coding.encode()))
    return varied(kept)


def varied(headers: Headers) -> Headers:
    """The headers with Accept-Encoding in Vary: added to the app's last Vary header, or as one of its own."""
    last = None
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            fields = [field.strip().lower() for field in value.split(b",")]
            if b"*" in fields or b"accept-encoding" in fields:
                return headers
            last = index
    if last is None:
        return [*headers, (b"vary", b"Accept-Encoding")]
    name, value = headers[last]
    merged = list(headers)
    merged[last] = (name, value + b", Accept-Encoding" if value.strip() else b"Accept-Encoding")
    return merged


def load_brotli() -> Any:
    """The `brotli` module, or None where it is not installed (the layer does not ship it)."""
    import importlib

    try:
        return importlib.import_module("brotli")
    except ImportError:
        return None
