"""Response compression (ASGI_COMPRESSION=1): a 1 MB JSON answer with and without it, time and bytes.

Each case is one Adapter answering an HTTP API (payload 2.0) event, timed interleaved with the
others (N calls of each per round, the order rotated every round; median of per-round means), as
section 1 times the adapters. *handler* is the call alone; *+ JSON* adds the `json.dumps` the
runtime client does to send the result, since a text body pays for its escapes there and a base64
one does not. *payload* is the bytes of that JSON (what Lambda's 6 MB limit measures), *body* the
bytes the client receives. The small case shows what compression on costs an answer too small to
compress: the per-call price of having it on.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass
from typing import Any

from asgi_lambda import Adapter

from .events import FakeContext, http_api_v2_event


def records(size: int) -> bytes:
    """A JSON list of records, as an API answers, of about `size` bytes."""
    items: list[dict[str, Any]] = []
    text = b"[]"
    while len(text) < size:
        start = len(items)
        items.extend(
            {
                "id": number,
                "name": f"user {number}",
                "email": f"user{number}@example.com",
                "active": number % 3 == 0,
                "score": (number * 37) % 1000 / 10,
                "tags": ["a", "b"] if number % 2 else ["c"],
            }
            for number in range(start, start + 1000)
        )
        text = json.dumps(items).encode()
    return text


def answering(body: bytes) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    return app


@dataclass(frozen=True)
class CompressionCase:
    label: str
    handler: Adapter
    event: dict[str, Any]


@dataclass(frozen=True)
class CompressionResult:
    label: str
    handler_us: float
    with_json_us: float
    payload_bytes: int
    body_bytes: int
    encoding: str


def cases(big: bytes) -> list[CompressionCase]:
    def event(accept_encoding: str | None) -> dict[str, Any]:
        made = http_api_v2_event("/items")
        if accept_encoding:
            made["headers"]["accept-encoding"] = accept_encoding
        return made

    large, small = answering(big), answering(b'{"ok": true}')
    built = [
        CompressionCase("1 MB JSON, compression off", Adapter(large, lifespan="off"), event("gzip, deflate, br")),
        CompressionCase("1 MB JSON, on: gzip", Adapter(large, lifespan="off", compression=True), event("gzip, deflate")),
    ]
    compressing = built[-1].handler.compression
    if compressing is not None and compressing.brotli is not None:
        built.append(CompressionCase("1 MB JSON, on: brotli", Adapter(large, lifespan="off", compression=True), event("gzip, deflate, br")))
    built += [
        CompressionCase("12-byte JSON, compression off", Adapter(small, lifespan="off"), event("gzip, deflate, br")),
        CompressionCase("12-byte JSON, on (too small)", Adapter(small, lifespan="off", compression=True), event("gzip, deflate, br")),
    ]
    return built


def mean_us(case: CompressionCase, context: Any, calls: int, *, serialised: bool) -> float:
    """µs per call of the case's handler, with the runtime's json.dumps of its result when `serialised`."""
    handler, event = case.handler, case.event
    started = time.perf_counter()
    for _ in range(calls):
        result = handler(event, context)
        if serialised:
            json.dumps(result)
    return (time.perf_counter() - started) / calls * 1e6


def measure_compression(calls: int, rounds: int) -> list[CompressionResult]:
    context = FakeContext()
    big = records(1024 * 1024)
    built = cases(big)
    handler_samples: dict[str, list[float]] = {case.label: [] for case in built}
    json_samples: dict[str, list[float]] = {case.label: [] for case in built}
    for case in built:  # warm up: caches filled, lazily built state settled
        json.dumps(case.handler(case.event, context))
    for round_number in range(rounds):
        shift = round_number % len(built)
        for case in built[shift:] + built[:shift]:
            handler_samples[case.label].append(mean_us(case, context, calls, serialised=False))
            json_samples[case.label].append(mean_us(case, context, calls, serialised=True))
    results = []
    for case in built:
        answer = case.handler(case.event, context)
        assert answer["statusCode"] == 200, answer
        body = answer["body"]
        body_bytes = len(body) * 3 // 4 - body.count("=") if answer["isBase64Encoded"] else len(body.encode())
        results.append(
            CompressionResult(
                case.label,
                statistics.median(handler_samples[case.label]),
                statistics.median(json_samples[case.label]),
                len(json.dumps(answer)),
                body_bytes,
                answer["headers"].get("content-encoding", "-"),
            )
        )
    return results


def compression_table(results: list[CompressionResult]) -> str:
    lines = [
        "   | case | handler µs | + JSON µs | payload bytes | body bytes | Content-Encoding |",
        "   |---|---:|---:|---:|---:|---|",
    ]
    for result in results:
        lines.append(
            f"   | {result.label} | {result.handler_us:,.0f} | {result.with_json_us:,.0f} | {result.payload_bytes:,} | "
            f"{result.body_bytes:,} | {result.encoding} |"
        )
    return "\n".join(lines)
