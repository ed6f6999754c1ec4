"""Response compression (ASGI_COMPRESSION=1, `compression=True`): which responses are compressed, with
which coding, and how each HTTP source carries them; the settings that turn it on; a streamed
body compressed chunk by chunk, each chunk readable as soon as it is written."""

from __future__ import annotations

import base64
import gzip
import json
import random
import sys
import zlib
from typing import Any

import brotli
import pytest

from asgi_lambda.docs import fix
from asgi_lambda.exceptions import ConfigError
from asgi_lambda.protocols.compression import CompressedStream, Compression, preferred
from asgi_lambda.settings import Settings
from tests.support import adapter, invoke
from tests.support.events import load_event

# A JSON answer of 4,000 bytes that compresses well, as API answers do.
ITEMS = json.dumps([{"id": number, "name": f"item {number}", "tags": ["a", "b"]} for number in range(100)]).encode()
GZIP = [("accept-encoding", "gzip, deflate")]
# The headers of ITEMS gzipped, where a source takes a header as one string.
GZIPPED_HEADERS = {"content-type": "application/json", "content-encoding": "gzip", "vary": "Accept-Encoding"}


def app_answering(body: bytes = ITEMS, headers: list[tuple[bytes, bytes]] | None = None, status: int = 200) -> Any:
    sent = [(b"content-type", b"application/json")] if headers is None else headers

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": status, "headers": sent})
        await send({"type": "http.response.body", "body": body})

    return app


def with_header(event: dict[str, Any], name: str, value: str) -> dict[str, Any]:
    """The event with one more request header, in the shape its source sends headers."""
    if "Records" in event:  # Lambda@Edge: {lowercase name: [{key, value}]}
        event["Records"][0]["cf"]["request"]["headers"][name] = [{"key": name.title(), "value": value}]
        return event
    if isinstance(event.get("multiValueHeaders"), dict):
        event["multiValueHeaders"][name] = [value]
    if isinstance(event.get("headers"), dict):
        lattice_v2 = event.get("version") == "2.0" and "requestContext" in event and "serviceNetworkArn" in event["requestContext"]
        event["headers"][name] = [value] if lattice_v2 else value
    return event


def served(event_name: str, accept_encoding: str | None = "gzip, deflate", **options: Any) -> dict[str, Any]:
    event = load_event(event_name)
    if accept_encoding is not None:
        with_header(event, "accept-encoding", accept_encoding)
    return invoke(adapter(options.pop("app", app_answering()), compression=True, **options), event)


def gunzipped(body: str) -> bytes:
    return gzip.decompress(base64.b64decode(body))


# --- each HTTP source ---------------------------------------------------------------------------


@pytest.mark.parametrize("event", ["http_api_v2_get", "function_url_get"])
def test_http_api_and_function_url_answers_are_gzipped_with_vary_and_base64(event: str) -> None:
    response = served(event)

    assert gunzipped(response.pop("body")) == ITEMS
    assert response == {"statusCode": 200, "headers": GZIPPED_HEADERS, "isBase64Encoded": True}


@pytest.mark.parametrize("event", ["apigw_rest_get", "http_api_v1_get"])
def test_rest_and_http_api_payload_1_answers_are_gzipped(event: str) -> None:
    response = served(event)

    assert gunzipped(response.pop("body")) == ITEMS
    assert response == {"statusCode": 200, "headers": GZIPPED_HEADERS, "multiValueHeaders": {}, "isBase64Encoded": True}


def test_alb_single_value_answer_is_gzipped() -> None:
    response = served("alb_single_value")

    assert gunzipped(response.pop("body")) == ITEMS
    assert response == {
        "statusCode": 200,
        "statusDescription": "200 OK",
        "headers": GZIPPED_HEADERS,
        "isBase64Encoded": True,
    }


def test_alb_multi_value_answer_is_gzipped_every_cookie_kept() -> None:
    headers = [(b"content-type", b"application/json"), (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]
    response = served("alb_multi_value", app=app_answering(headers=headers))

    assert gunzipped(response.pop("body")) == ITEMS
    assert response == {
        "statusCode": 200,
        "statusDescription": "200 OK",
        "multiValueHeaders": {
            "content-type": ["application/json"],
            "set-cookie": ["a=1", "b=2"],
            "content-encoding": ["gzip"],
            "vary": ["Accept-Encoding"],
        },
        "isBase64Encoded": True,
    }


@pytest.mark.parametrize("event", ["vpc_lattice_v1_get", "vpc_lattice_v2_post"])
def test_vpc_lattice_answers_are_gzipped(event: str) -> None:
    response = served(event)

    assert gunzipped(response.pop("body")) == ITEMS
    assert response == {"statusCode": 200, "headers": GZIPPED_HEADERS, "isBase64Encoded": True}


@pytest.mark.parametrize("event", ["lambda_edge_viewer_request", "lambda_edge_origin_request"])
def test_lambda_edge_generated_answers_are_gzipped_when_the_viewer_accepts_it(event: str) -> None:
    response = served(event)

    assert gunzipped(response.pop("body")) == ITEMS
    assert response == {
        "status": "200",
        "statusDescription": "OK",
        "headers": {
            "content-type": [{"key": "Content-Type", "value": "application/json"}],
            "content-encoding": [{"key": "Content-Encoding", "value": "gzip"}],
            "vary": [{"key": "Vary", "value": "Accept-Encoding"}],
        },
        "bodyEncoding": "base64",
    }


def test_without_accept_encoding_the_answer_is_as_the_app_sent_it_with_vary() -> None:
    response = served("http_api_v2_get", accept_encoding=None)

    assert response == {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "vary": "Accept-Encoding"},
        "body": ITEMS.decode(),
        "isBase64Encoded": False,
    }


def test_compression_off_by_default_changes_nothing() -> None:
    event = with_header(load_event("http_api_v2_get"), "accept-encoding", "gzip")

    response = invoke(adapter(app_answering()), event)

    assert response == {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": ITEMS.decode(),
        "isBase64Encoded": False,
    }


def test_a_non_http_event_answer_is_never_compressed() -> None:
    # SQS through events_path: the app's JSON is the invocation's result, whatever its size.
    answer = json.dumps({"batchItemFailures": [], "padding": "x" * 5000}).encode()
    event = load_event("sqs_batch")

    result = invoke(adapter(app_answering(answer), compression=True, events_path="/events"), event)

    assert result == json.loads(answer)


# --- the size guard ----------------------------------------------------------------------------


def test_an_answer_over_6_mb_that_fits_compressed_is_served() -> None:
    big = json.dumps([{"id": number, "name": f"item {number}"} for number in range(250_000)]).encode()
    assert len(big) > 6 * 1024 * 1024

    response = served("http_api_v2_get", app=app_answering(big))
    plain = invoke(adapter(app_answering(big)), with_header(load_event("http_api_v2_get"), "accept-encoding", "gzip"))

    assert response["statusCode"] == 200 and gunzipped(response["body"]) == big
    assert plain["statusCode"] == 500 and plain["body"] == "Internal Server Error"


# --- which responses -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "compressed"),
    [
        (b"application/json", True),
        (b"text/html; charset=utf-8", True),
        (b"text/csv", True),
        (b"text/event-stream", True),
        (b"application/javascript", True),
        (b"application/xml", True),
        (b"image/svg+xml", True),
        (b"application/problem+json", True),
        (b"application/atom+xml; charset=utf-8", True),
        (b"APPLICATION/JSON", True),
        (b"image/png", False),
        (b"application/octet-stream", False),
        (b"application/zip", False),
        (b"", False),
    ],
)
def test_only_compressible_media_types_are_compressed(content_type: bytes, compressed: bool) -> None:
    headers = [(b"content-type", content_type)] if content_type else []
    response = served("http_api_v2_get", app=app_answering(headers=headers))

    assert (response["headers"].get("content-encoding") == "gzip") is compressed


def test_a_body_under_the_minimum_goes_out_as_it_is() -> None:
    small = served("http_api_v2_get", app=app_answering(ITEMS[:1023]))
    at_minimum = served("http_api_v2_get", app=app_answering(ITEMS[:1024]))
    lowered = served("http_api_v2_get", app=app_answering(ITEMS[:200]), compression_min_bytes=100)

    assert small == {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": ITEMS[:1023].decode(),
        "isBase64Encoded": False,
    }
    assert at_minimum["headers"]["content-encoding"] == "gzip" and gunzipped(at_minimum["body"]) == ITEMS[:1024]
    assert lowered["headers"]["content-encoding"] == "gzip"


def test_an_app_s_own_content_encoding_is_left_alone() -> None:
    already = gzip.compress(ITEMS, mtime=0)
    headers = [(b"content-type", b"application/json"), (b"content-encoding", b"gzip")]

    response = served("http_api_v2_get", app=app_answering(already, headers))

    assert response == {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "content-encoding": "gzip"},
        "body": base64.b64encode(already).decode(),
        "isBase64Encoded": True,
    }


def test_no_transform_partial_content_head_and_bodyless_statuses_are_not_compressed() -> None:
    no_transform = served(
        "http_api_v2_get", app=app_answering(headers=[(b"content-type", b"text/plain"), (b"cache-control", b"no-transform")])
    )
    partial = served(
        "http_api_v2_get",
        app=app_answering(headers=[(b"content-type", b"text/plain"), (b"content-range", b"bytes 0-3999/8000")], status=206),
    )
    head = served("http_api_v2_head")

    assert "content-encoding" not in no_transform["headers"] and no_transform["body"] == ITEMS.decode()
    assert "content-encoding" not in partial["headers"] and partial["body"] == ITEMS.decode()
    assert head == {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": "", "isBase64Encoded": False}


def test_vary_is_merged_content_length_dropped_and_a_strong_etag_made_weak() -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(ITEMS)).encode()),
        (b"etag", b'"v1"'),
        (b"vary", b"Origin"),
    ]

    response = served("http_api_v2_get", app=app_answering(headers=headers))

    assert response["headers"] == {
        "content-type": "application/json",
        "etag": 'W/"v1"',
        "vary": "Origin, Accept-Encoding",
        "content-encoding": "gzip",
    }


def test_a_vary_naming_accept_encoding_or_star_is_kept_as_it_is() -> None:
    for vary in (b"accept-encoding", b"Origin, Accept-Encoding", b"*"):
        response = served("http_api_v2_get", app=app_answering(headers=[(b"content-type", b"text/plain"), (b"Vary", vary)]))

        assert response["headers"]["vary"] == vary.decode()


def test_a_body_that_gzip_would_not_shrink_goes_out_as_it_is() -> None:
    noise = random.Random(22).randbytes(2048)  # as a compressed or encrypted payload: nothing to gain
    response = served("http_api_v2_get", app=app_answering(noise, [(b"content-type", b"text/plain")]))

    assert "content-encoding" not in response["headers"] and response["headers"]["vary"] == "Accept-Encoding"
    assert base64.b64decode(response["body"]) == noise


# --- Accept-Encoding ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_encoding", "with_brotli", "without_brotli"),
    [
        ("gzip", "gzip", "gzip"),
        ("gzip, deflate, br, zstd", "br", "gzip"),  # browsers: equal weights, br first (as CloudFront)
        ("br", "br", None),
        ("br;q=1.0, gzip;q=0.8", "br", "gzip"),
        ("gzip;q=1.0, br;q=0.8", "gzip", "gzip"),
        ("GZIP;Q=0.5", "gzip", "gzip"),
        ("x-gzip", "gzip", "gzip"),
        ("gzip;q=0", None, None),
        ("gzip;q=0.000, br;q=0", None, None),
        ("*", "br", "gzip"),
        ("*;q=0", None, None),
        ("*;q=0, gzip", "gzip", "gzip"),
        ("gzip;q=0, *", "br", None),  # gzip refused by name: * does not bring it back
        ("identity;q=0", None, None),  # says nothing of gzip
        ("identity;q=0, *;q=0.5", "br", "gzip"),
        ("identity", None, None),
        ("deflate", None, None),
        ("", None, None),
        ("gzip;q=abc", None, None),  # a malformed weight: the element is left out
        ("gzip;q=1.5", None, None),
        ("gzip;q=0.5555", None, None),
        ("gzip;q=.5", None, None),
        ("gzip ; q=0.001", "gzip", "gzip"),
        (" , gzip ,", "gzip", "gzip"),
    ],
)
def test_accept_encoding_weights_choose_the_coding(accept_encoding: str, with_brotli: str | None, without_brotli: str | None) -> None:
    assert preferred(accept_encoding, brotli=True) == with_brotli
    assert preferred(accept_encoding, brotli=False) == without_brotli


def test_brotli_is_used_when_the_client_prefers_it() -> None:
    response = served("http_api_v2_get", accept_encoding="gzip;q=0.5, br")

    assert response["headers"]["content-encoding"] == "br"
    assert brotli.decompress(base64.b64decode(response["body"])) == ITEMS


def test_without_the_brotli_module_a_client_that_prefers_br_gets_gzip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "brotli", None)  # import brotli raises ImportError

    response = served("http_api_v2_get", accept_encoding="br, gzip;q=0.5")
    refused = served("http_api_v2_get", accept_encoding="br")

    assert response["headers"]["content-encoding"] == "gzip" and gunzipped(response["body"]) == ITEMS
    assert "content-encoding" not in refused["headers"] and refused["body"] == ITEMS.decode()


def test_several_accept_encoding_headers_are_read_as_one_list() -> None:
    compression = Compression(1024)
    scope = {"headers": [(b"accept-encoding", b"identity"), (b"accept-encoding", b"gzip;q=0.5")]}

    assert compression.coding(scope) == "gzip"


# --- settings ----------------------------------------------------------------------------------


def test_the_variables_turn_compression_on_and_set_the_minimum() -> None:
    settings = Settings.from_environ({"ASGI_APP": "main:app", "ASGI_COMPRESSION": "1", "ASGI_COMPRESSION_MIN_BYTES": "2_048"})
    default = Settings.from_environ({"ASGI_APP": "main:app"})

    assert (settings.compression, settings.compression_min_bytes) == (True, 2048)
    assert (default.compression, default.compression_min_bytes) == (False, 1024)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"ASGI_COMPRESSION": "gzip"}, "ASGI_COMPRESSION='gzip': expected 1 or 0 (or true/false, yes/no, on/off)."),
        (
            {"ASGI_COMPRESSION_MIN_BYTES": "1k"},
            "ASGI_COMPRESSION_MIN_BYTES='1k': expected a whole number of bytes from 0 to 6,291,456, such as 1,024.",
        ),
        (
            {"ASGI_COMPRESSION_MIN_BYTES": "-1"},
            "ASGI_COMPRESSION_MIN_BYTES='-1': expected a whole number of bytes from 0 to 6,291,456, such as 1,024.",
        ),
        (
            {"ASGI_COMPRESSION_MIN_BYTES": "7000000"},
            "ASGI_COMPRESSION_MIN_BYTES='7000000': expected a whole number of bytes from 0 to 6,291,456, such as 1,024.",
        ),
    ],
)
def test_bad_variables_are_config_errors_naming_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_environ({"ASGI_APP": "main:app", **environ})

    assert str(error.value) == message + fix("invalid-value")


def test_bad_keywords_are_config_errors_naming_the_keyword() -> None:
    with pytest.raises(ConfigError) as flag:
        adapter(app_answering(), compression="yes")
    with pytest.raises(ConfigError) as size:
        adapter(app_answering(), compression=True, compression_min_bytes=True)

    assert str(flag.value) == "compression='yes': expected True or False." + fix("invalid-value")
    assert str(size.value) == (
        "compression_min_bytes=True: expected a whole number of bytes from 0 to 6,291,456, such as 1,024." + fix("invalid-value")
    )


# --- a streamed body ---------------------------------------------------------------------------


class Recorder:
    """A ResponseStream that keeps what it is given: the prelude, and the bytes of each write."""

    def __init__(self) -> None:
        self.status = 500
        self.gone = False
        self.ended = False
        self.on_gone: Any = lambda: None
        self.headers: list[tuple[bytes, bytes]] = []
        self.writes: list[bytes] = []

    async def start(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.status, self.headers = status, headers

    async def write(self, body: bytes, *, last: bool) -> None:
        self.writes.append(body)
        self.ended = last

    async def conclude(self, cycle: Any, response: Any) -> None:
        pass


EVENTS = [b"data: one\n\n", b"data: two\n\n", b"", b"data: three\n\n"]


def run_stream(accept_encoding: str, headers: list[tuple[bytes, bytes]]) -> Recorder:
    import asyncio

    recorder = Recorder()
    scope = {"method": "GET", "headers": [(b"accept-encoding", accept_encoding.encode())]}
    stream = Compression(1024).streamed(scope, recorder)

    async def send_all() -> None:
        await stream.start(200, headers)
        for index, chunk in enumerate(EVENTS):
            await stream.write(chunk, last=index == len(EVENTS) - 1)

    asyncio.run(send_all())
    return recorder


def test_a_streamed_body_is_gzipped_chunk_by_chunk_each_readable_as_soon_as_written() -> None:
    recorder = run_stream("gzip", [(b"content-type", b"text/event-stream")])

    assert recorder.headers == [(b"content-type", b"text/event-stream"), (b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding")]
    decoder = zlib.decompressobj(31)
    # Each write decodes, on its own, to exactly the chunk the app sent: nothing waits for the next.
    assert [decoder.decompress(data) for data in recorder.writes] == EVENTS
    assert decoder.eof and recorder.writes[2] == b"" and recorder.ended


def test_a_streamed_body_is_brotli_compressed_chunk_by_chunk() -> None:
    recorder = run_stream("br", [(b"content-type", b"text/event-stream")])

    assert (b"content-encoding", b"br") in recorder.headers
    decoder = brotli.Decompressor()
    assert [decoder.process(data) for data in recorder.writes] == EVENTS
    assert decoder.is_finished()


def test_a_streamed_body_with_a_small_content_length_or_no_accepted_coding_is_untouched() -> None:
    small = run_stream("gzip", [(b"content-type", b"text/plain"), (b"content-length", b"35")])
    refused = run_stream("identity", [(b"content-type", b"text/plain")])

    assert small.headers == [(b"content-type", b"text/plain"), (b"content-length", b"35")] and small.writes == EVENTS
    assert refused.headers == [(b"content-type", b"text/plain"), (b"vary", b"Accept-Encoding")] and refused.writes == EVENTS


def test_the_compressed_stream_passes_the_cycle_s_state_through() -> None:
    recorder = Recorder()
    stream = Compression(1024).streamed({"method": "GET", "headers": []}, recorder)
    assert isinstance(stream, CompressedStream)
    marker = lambda: None  # noqa: E731

    stream.on_gone = marker
    recorder.gone, recorder.status = True, 201

    assert (recorder.on_gone, stream.gone, stream.status, stream.ended) == (marker, True, 201, False)
