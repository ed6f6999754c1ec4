"""The Management API client tries a 429 or a 5xx again, a bounded number of times, and nothing else.

Against the loopback stub (management_api.py), told how to answer the next calls. The waits are
never slept: `pause` and `jitter` are replaced, so each test knows the exact waits it asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus

import pytest

from asgi_lambda import Adapter
from asgi_lambda.protocols import loop
from asgi_lambda.stores.memory import MemoryStore
from asgi_lambda.websocket import management_api
from asgi_lambda.websocket.hub import ConnectionHub
from asgi_lambda.websocket.management_api import BACKOFF_CAP, GatewayError, Gone, ManagementAPI
from tests.support.apps import CONNECTION_ID, ChatApp
from tests.support.events import load_event
from tests.support.management_api import ManagementAPIStub
from tests.support.websocket import websocket_runtime


@dataclass
class Backoff:
    """What the client asked of the replaced jitter and pause: each ceiling drawn under, each wait."""

    ceilings: list[float] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)


@pytest.fixture
def backoff(monkeypatch: pytest.MonkeyPatch) -> Backoff:
    seen = Backoff()

    def jitter(ceiling: float) -> float:
        seen.ceilings.append(ceiling)
        return ceiling / 2  # a draw the test can tell from the ceiling

    async def pause(seconds: float) -> None:
        seen.waits.append(seconds)

    monkeypatch.setattr(management_api, "jitter", jitter)
    monkeypatch.setattr(management_api, "pause", pause)
    return seen


@pytest.fixture
def api(stub: ManagementAPIStub) -> Iterator[ManagementAPI]:
    client = ManagementAPI(stub.endpoint, region="us-east-1")
    yield client
    loop.run(client.close())


def post(api: ManagementAPI) -> None:
    loop.run(api.post(CONNECTION_ID, b"hello"))


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_a_throttle_or_a_server_error_is_tried_again_and_then_delivered(
    api: ManagementAPI, stub: ManagementAPIStub, backoff: Backoff, status: int
) -> None:
    stub.answers = [(status, {})]

    post(api)

    assert stub.posts() == [(CONNECTION_ID, b"hello")] * 2
    assert backoff.waits == [0.025]  # half (the replaced draw) of the first ceiling, 50 ms


def test_429_then_500_then_200_is_delivered_on_the_third_attempt_after_exponential_full_jitter_waits(
    api: ManagementAPI, stub: ManagementAPIStub, backoff: Backoff
) -> None:
    stub.answers = [(429, {}), (500, {})]

    post(api)

    assert len(stub.posts()) == 3
    assert backoff.ceilings == [0.05, 0.1]
    assert backoff.waits == [0.025, 0.05]


def test_429_500_503_gives_up_after_three_attempts_with_the_last_answer(
    api: ManagementAPI, stub: ManagementAPIStub, backoff: Backoff
) -> None:
    stub.answers = [(429, {}), (500, {}), (503, {})]  # a 200 would follow: it is never asked for

    with pytest.raises(GatewayError) as error:
        post(api)

    assert type(error.value) is GatewayError
    assert str(error.value) == (
        f"POST {stub.endpoint}/@connections/{CONNECTION_ID}: 503 ServiceUnavailableException "
        '{"message": "Service Unavailable"} (after 3 attempts)'
    )
    assert len(stub.posts()) == 3
    assert backoff.waits == [0.025, 0.05]  # none after the last attempt


def test_a_retry_after_within_the_cap_is_waited_as_given_instead_of_a_draw(
    api: ManagementAPI, stub: ManagementAPIStub, backoff: Backoff
) -> None:
    stub.answers = [(429, {"Retry-After": "1"}), (503, {"Retry-After": "0"})]

    post(api)

    assert len(stub.posts()) == 3
    assert backoff.waits == [1.0, 0.0]
    assert backoff.ceilings == []


def test_a_retry_after_beyond_the_cap_ends_the_tries_at_once(api: ManagementAPI, stub: ManagementAPIStub, backoff: Backoff) -> None:
    stub.answers = [(429, {"Retry-After": "30"})]

    with pytest.raises(GatewayError) as error:
        post(api)

    assert str(error.value) == (
        f"POST {stub.endpoint}/@connections/{CONNECTION_ID}: 429 LimitExceededException "
        '{"message": "Too Many Requests"} (Retry-After 30 s: longer than the 1 s this client waits)'
    )
    assert len(stub.posts()) == 1
    assert backoff.waits == []


def test_a_retry_after_as_an_http_date_falls_back_to_the_drawn_wait(api: ManagementAPI, stub: ManagementAPIStub, backoff: Backoff) -> None:
    stub.answers = [(503, {"Retry-After": "Wed, 25 Nov 2026 08:00:00 GMT"})]

    post(api)

    assert len(stub.posts()) == 2
    assert backoff.waits == [0.025]


def test_the_ceiling_doubles_from_50_ms_up_to_the_cap(backoff: Backoff) -> None:
    waits = [management_api.backoff(retry, None) for retry in (1, 2, 3, 6, 10)]

    assert backoff.ceilings == [0.05, 0.1, 0.2, BACKOFF_CAP, BACKOFF_CAP]
    assert waits == [ceiling / 2 for ceiling in backoff.ceilings]


def test_410_is_gone_at_once(api: ManagementAPI, stub: ManagementAPIStub, backoff: Backoff) -> None:
    stub.gone.add(CONNECTION_ID)

    with pytest.raises(Gone):
        post(api)

    assert len(stub.posts()) == 1
    assert backoff.waits == []


@pytest.mark.parametrize(("status", "error_type"), [(400, "BadRequestException"), (403, "ForbiddenException"), (404, "")])
def test_any_other_4xx_fails_at_once(api: ManagementAPI, stub: ManagementAPIStub, backoff: Backoff, status: int, error_type: str) -> None:
    stub.answers = [(status, {})]

    with pytest.raises(GatewayError) as error:
        post(api)

    assert type(error.value) is GatewayError
    assert str(error.value) == " ".join(
        part for part in (f"POST {stub.endpoint}/@connections/{CONNECTION_ID}: {status}", error_type, stub_message(status)) if part
    )
    assert len(stub.posts()) == 1
    assert backoff.waits == []


def stub_message(status: int) -> str:
    return f'{{"message": "{HTTPStatus(status).phrase}"}}'


# --- through the adapter -------------------------------------------------------------


@pytest.fixture
def hub(stub: ManagementAPIStub) -> Iterator[ConnectionHub]:
    with websocket_runtime(MemoryStore(), endpoint=stub.endpoint) as runtime:
        yield runtime


def test_a_reply_answered_503_then_200_reaches_the_client_and_logs_nothing(
    hub: ConnectionHub, stub: ManagementAPIStub, backoff: Backoff, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = Adapter(ChatApp(), lifespan="off")
    assert adapter(load_event("ws_connect"), None)["statusCode"] == 200
    stub.answers = [(503, {})]

    with caplog.at_level(logging.INFO, logger="asgi_lambda"):
        assert adapter(load_event("ws_message"), None) == {"statusCode": 200}

    assert stub.posts() == [(CONNECTION_ID, b"echo: hello, world")] * 2
    assert caplog.records == []


def test_a_reply_the_gateway_keeps_failing_is_logged_once_with_the_last_answer_and_the_connection_kept(
    hub: ConnectionHub, stub: ManagementAPIStub, backoff: Backoff, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = Adapter(ChatApp(), lifespan="off")
    assert adapter(load_event("ws_connect"), None)["statusCode"] == 200
    stub.answers = [(500, {})] * 3

    with caplog.at_level(logging.INFO, logger="asgi_lambda"):
        assert adapter(load_event("ws_message"), None) == {"statusCode": 200}

    # The send raised in the app, which did not catch it: the cycle logs it, with the error.
    [record] = caplog.records
    assert record.getMessage() == f"Exception in ASGI application (WebSocket connection {CONNECTION_ID})"
    assert record.exc_info is not None and str(record.exc_info[1]) == (
        f"POST {stub.endpoint}/@connections/{CONNECTION_ID}: 500 InternalServerErrorException "
        '{"message": "Internal Server Error"} (after 3 attempts)'
    )
    assert len(stub.posts()) == 3
    assert loop.run(hub.store.load(CONNECTION_ID)) is not None
