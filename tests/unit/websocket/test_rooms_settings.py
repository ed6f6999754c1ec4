"""The options of sessions and fan-out, in the environment and in code: each checked once, its
fault naming the variable or key, the value and what would do."""

from __future__ import annotations

import pytest

from asgi_lambda import ConfigError
from asgi_lambda.docs import fix
from asgi_lambda.settings.websocket import websocket_from_dsn, websocket_from_environ, websocket_from_ws_config

MEMORY = {"WS_BACKEND": "memory"}
QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/fanout"


def test_the_defaults_are_32_kb_sessions_no_queue_a_threshold_of_2000_and_pages_of_500() -> None:
    settings = websocket_from_environ(MEMORY)

    assert (settings.session_max_bytes, settings.fanout_queue_url, settings.fanout_threshold, settings.fanout_page) == (
        32768,
        None,
        2000,
        500,
    )


def test_the_variables_set_them() -> None:
    environ = {
        **MEMORY,
        "WS_SESSION_MAX_BYTES": "4096",
        "WS_FANOUT_QUEUE_URL": QUEUE,
        "WS_FANOUT_THRESHOLD": "100",
        "WS_FANOUT_PAGE": "250",
    }

    settings = websocket_from_environ(environ)

    assert (settings.session_max_bytes, settings.fanout_queue_url, settings.fanout_threshold, settings.fanout_page) == (
        4096,
        QUEUE,
        100,
        250,
    )


def test_ws_config_and_dsn_set_them_in_code() -> None:
    params = {"session_max_bytes": 4096, "fanout_queue_url": QUEUE, "fanout_threshold": 100, "fanout_page": 250}

    from_config = websocket_from_ws_config({"backend": "memory", "params": params}, {})
    from_dsn = websocket_from_dsn(
        f"dynamodb://connections?session_max_bytes=4096&fanout_queue_url={QUEUE}&fanout_threshold=100&fanout_page=250", {}
    )

    for settings in (from_config, from_dsn):
        assert (settings.session_max_bytes, settings.fanout_queue_url, settings.fanout_threshold, settings.fanout_page) == (
            4096,
            QUEUE,
            100,
            250,
        )


@pytest.mark.parametrize(
    "url",
    [
        QUEUE,
        "https://sqs.us-gov-west-1.amazonaws.com/123456789012/chat_fanout-1",
        "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/fanout",
        "https://eu-west-1.queue.amazonaws.com/123456789012/fanout",
    ],
)
def test_an_sqs_queue_url_of_aws_is_taken(url: str) -> None:
    assert websocket_from_environ({**MEMORY, "WS_FANOUT_QUEUE_URL": url}).fanout_queue_url == url


@pytest.mark.parametrize(
    "url",
    [
        "http://sqs.eu-west-1.amazonaws.com/123456789012/fanout",
        "https://sqs.eu-west-1.amazonaws.com/fanout",
        "https://sqs.eu-west-1.amazonaws.com.evil.example/123456789012/fanout",
        "https://evil.example/123456789012/fanout",
        "fanout",
    ],
)
def test_anything_else_is_refused_naming_the_form(url: str) -> None:
    with pytest.raises(ConfigError) as error:
        websocket_from_environ({**MEMORY, "WS_FANOUT_QUEUE_URL": url})

    assert str(error.value) == (
        f"WS_FANOUT_QUEUE_URL={url!r}: expected an SQS queue URL, such as https://sqs.eu-west-1.amazonaws.com/123456789012/fanout "
        "(or, with AWS_ENDPOINT_URL_SQS set, an http(s) URL of that path: /<account>/<name>)." + fix("invalid-value")
    )


def test_a_fifo_queue_is_refused() -> None:
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/fanout.fifo"

    with pytest.raises(ConfigError) as error:
        websocket_from_environ({**MEMORY, "WS_FANOUT_QUEUE_URL": url})

    assert str(
        error.value
    ) == f"WS_FANOUT_QUEUE_URL={url!r}: a FIFO queue; fan-out needs a standard queue (its pages need no order)." + fix("invalid-value")


def test_with_aws_endpoint_url_sqs_an_http_url_of_the_queue_path_is_taken_as_moto_gives_it() -> None:
    url = "http://127.0.0.1:5000/123456789012/fanout"
    environ = {**MEMORY, "WS_FANOUT_QUEUE_URL": url, "AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:5000"}

    assert websocket_from_environ(environ).fanout_queue_url == url
    with pytest.raises(ConfigError):
        websocket_from_environ({**environ, "WS_FANOUT_QUEUE_URL": "http://127.0.0.1:5000/queue/fanout"})


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("WS_FANOUT_PAGE", "4001", "expected a whole number of connections from 1 to 4,000, such as 500."),
        ("WS_FANOUT_PAGE", "0", "expected a whole number of connections from 1 to 4,000, such as 500."),
        ("WS_FANOUT_THRESHOLD", "many", "expected a whole number of connections from 1 to 1,000,000,000, such as 2,000."),
        ("WS_SESSION_MAX_BYTES", "1", "expected a whole number of bytes from 2 to 262,144, such as 32,768."),
        ("WS_SESSION_MAX_BYTES", "-5", "expected a whole number of bytes from 2 to 262,144, such as 32,768."),
    ],
)
def test_numbers_out_of_bounds_are_refused_naming_the_bounds(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        websocket_from_environ({**MEMORY, variable: value})

    assert str(error.value) == f"{variable}={value!r}: {message}" + fix("invalid-value")


def test_a_number_in_code_is_checked_by_the_same_rule() -> None:
    with pytest.raises(ConfigError) as error:
        websocket_from_ws_config({"backend": "memory", "params": {"fanout_page": 5000}}, {})

    assert str(
        error.value
    ) == "ws_config['params']['fanout_page']=5000: expected a whole number of connections from 1 to 4,000, such as 500." + fix(
        "invalid-value"
    )
