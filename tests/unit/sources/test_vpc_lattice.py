"""Amazon VPC Lattice Lambda targets, event structure versions 2 and 1.

Events and the answer follow https://docs.aws.amazon.com/vpc-lattice/latest/ug/lambda-functions.html
"""

from __future__ import annotations

import base64

from tests.support import adapter
from tests.support.apps import RecordingApp
from tests.support.events import load_event, mapped

HOST = "asgi-orders-0a1b2c3d4e5f67890.7d67968.vpc-lattice-svcs.eu-west-1.on.aws"


def test_version_2_maps_to_the_exact_scope_and_body(app: RecordingApp) -> None:
    adapter(app)(load_event("vpc_lattice_v2_post"), None)

    assert mapped(app.scope) == {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": "/orders",
        "raw_path": b"/orders",
        "root_path": "",
        # Version 2 keeps every value of a repeated parameter.
        "query_string": b"dry_run=false&tag=a&tag=b",
        "headers": [
            (b"host", HOST.encode()),
            (b"accept", b"application/json"),
            (b"content-type", b"application/json"),
            (b"content-length", b"26"),
            (b"user-agent", b"python-httpx/0.27.0"),
            (b"x-forwarded-for", b"10.0.12.34"),
            (b"x-probe", b"first"),
            (b"x-probe", b"second"),
        ],
        # Lattice appends the peer to X-Forwarded-For; it has no source IP field.
        "client": ("10.0.12.34", 0),
        "server": (HOST, 443),
    }
    assert app.bodies == [b'{"sku":"BOOK-001","qty":3}']


def test_version_1_maps_to_the_exact_scope(app: RecordingApp) -> None:
    adapter(app)(load_event("vpc_lattice_v1_get"), None)

    assert mapped(app.scope) == {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": "/orders/ord-20240601-0042",
        "raw_path": b"/orders/ord-20240601-0042",
        "root_path": "",
        # Version 1 sends only the last value of a repeated parameter (?tag=a&tag=b).
        "query_string": b"fields=status&tag=b",
        "headers": [
            (b"host", HOST.encode()),
            (b"accept", b"application/json"),
            (b"user-agent", b"python-httpx/0.27.0"),
            (b"x-forwarded-for", b"10.0.12.34"),
            # ... and joins a repeated header's values.
            (b"x-probe", b"first, second"),
        ],
        "client": ("10.0.12.34", 0),
        "server": (HOST, 443),
    }
    assert app.bodies == [b""]


def test_a_version_2_base64_body_is_decoded(app: RecordingApp) -> None:
    event = load_event("vpc_lattice_v2_post")
    event.update(body=base64.b64encode(b"\x00\x01binary").decode(), isBase64Encoded=True)

    adapter(app)(event, None)

    assert app.bodies == [b"\x00\x01binary"]


def test_the_answer_has_one_string_per_header(app: RecordingApp) -> None:
    app = RecordingApp(
        status=201,
        headers=[
            (b"content-type", b"application/json"),
            (b"vary", b"accept"),
            (b"vary", b"origin"),
            (b"set-cookie", b"a=1"),
            (b"set-cookie", b"b=2"),
        ],
        body=b'{"id":"ord-1"}',
    )

    for fixture in ("vpc_lattice_v2_post", "vpc_lattice_v1_get"):
        response = adapter(app)(load_event(fixture), None)

        assert response == {
            "isBase64Encoded": False,
            "statusCode": 201,
            # Repeats joined as HTTP allows; each cookie under its own casing of the name.
            "headers": {"content-type": "application/json", "vary": "accept, origin", "set-cookie": "a=1", "Set-cookie": "b=2"},
            "body": '{"id":"ord-1"}',
        }


def test_a_binary_answer_is_base64() -> None:
    app = RecordingApp(headers=[(b"content-type", b"application/octet-stream")], body=b"\x00\xff")

    response = adapter(app)(load_event("vpc_lattice_v2_post"), None)

    assert (response["isBase64Encoded"], base64.b64decode(response["body"])) == (True, b"\x00\xff")
