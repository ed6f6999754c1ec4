"""The Management API client: signed calls, keep-alive, Gone, and the 128 KB limit."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from asgi_lambda.protocols import loop
from asgi_lambda.websocket.management_api import Gone, ManagementAPI, MessageTooLarge, sign
from tests.support.management_api import ManagementAPIStub


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token")


@pytest.fixture
def stub() -> Iterator[ManagementAPIStub]:
    server = ManagementAPIStub()
    yield server
    server.close()


def test_signature_matches_botocores(credentials: None) -> None:
    now = time.gmtime(1795600800)
    path = "/prod/%40connections/L0SM9cOFvHcCIhw%3D"
    headers = {
        "host": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
        "x-amz-date": "20261125T080000Z",
        "x-amz-security-token": "session-token",
    }

    ours = sign("POST", path, headers, b"hello", region="us-east-1", service="execute-api", now=now)

    request = AWSRequest(
        method="POST", url=f"https://{headers['host']}{path}", data=b"hello", headers={"X-Amz-Date": headers["x-amz-date"]}
    )
    request.context["timestamp"] = headers["x-amz-date"]
    signer = SigV4Auth(Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token"), "execute-api", "us-east-1")
    request.headers["X-Amz-Security-Token"] = "session-token"
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    assert ours.endswith(f"Signature={expected}")
    assert ours.startswith(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token,"
    )


def test_post_sends_the_message_to_the_connection_signed(credentials: None, stub: ManagementAPIStub) -> None:
    api = ManagementAPI(stub.endpoint, region="us-east-1")

    loop.run(api.post("L0SM9cOFvHcCIhw=", "héllo".encode()))

    [call] = stub.calls
    assert (call.method, call.connection_id, call.body) == ("POST", "L0SM9cOFvHcCIhw=", "héllo".encode())
    assert call.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert call.headers["x-amz-security-token"] == "session-token"


def test_connections_are_kept_alive_across_calls(credentials: None, stub: ManagementAPIStub) -> None:
    api = ManagementAPI(stub.endpoint, region="us-east-1")

    for index in range(5):
        loop.run(api.post(f"c{index}", b"x"))

    assert len(api.idle) == 1
    assert len(stub.calls) == 5


def test_a_gone_connection_raises_gone(credentials: None, stub: ManagementAPIStub) -> None:
    stub.gone.add("left=")
    api = ManagementAPI(stub.endpoint, region="us-east-1")

    with pytest.raises(Gone):
        loop.run(api.post("left=", b"hello?"))


def test_delete_closes_the_connection(credentials: None, stub: ManagementAPIStub) -> None:
    loop.run(ManagementAPI(stub.endpoint, region="us-east-1").delete("bye="))

    assert stub.deletes() == ["bye="]


def test_a_message_over_128_kb_is_refused_not_truncated(credentials: None, stub: ManagementAPIStub) -> None:
    api = ManagementAPI(stub.endpoint, region="us-east-1")

    with pytest.raises(MessageTooLarge) as error:
        loop.run(api.post("big=", b"x" * (128 * 1024 + 1)))

    assert str(error.value) == "message of 131073 bytes to big= not sent: API Gateway's limit is 131072 bytes"
    assert stub.calls == []
