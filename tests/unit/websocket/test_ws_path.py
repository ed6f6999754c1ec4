"""One WebSocket path default everywhere: the scope's path is WS_PATH, else /, on Lambda and in
`asgi-lambda serve` alike, read and checked by one function."""

from __future__ import annotations

from typing import Any

import pytest

from asgi_lambda import ConfigError
from asgi_lambda.docs import fix
from asgi_lambda.local.cli import build_parser, main
from asgi_lambda.settings.options import DEFAULT_WS_PATH, parse_ws_path
from asgi_lambda.settings.websocket import websocket_from_environ, websocket_from_ws_config


@pytest.fixture(autouse=True)
def no_ws_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WS_BACKEND", "WS_PATH"):
        monkeypatch.delenv(name, raising=False)


def serve_ws_path(*argv: str) -> Any:
    return build_parser().parse_args(["serve", "main:app", *argv]).ws_path


def test_the_default_path_is_slash() -> None:
    assert DEFAULT_WS_PATH == "/"


def test_lambda_gives_scopes_slash_without_ws_path() -> None:
    assert websocket_from_environ({"WS_BACKEND": "memory"}).path == "/"
    assert websocket_from_ws_config({"backend": "memory"}, {}).path == "/"


def test_serve_gives_scopes_slash_without_ws_path() -> None:
    assert serve_ws_path() == "/"


def test_serve_takes_ws_path_from_the_environment_as_lambda_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WS_PATH", "/chat")

    assert serve_ws_path() == "/chat"
    assert websocket_from_environ({"WS_BACKEND": "memory", "WS_PATH": "/chat"}).path == "/chat"


def test_serve_ws_path_option_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WS_PATH", "/chat")

    assert serve_ws_path("--ws-path", "/ws") == "/ws"


def test_an_empty_ws_path_is_the_default() -> None:
    assert parse_ws_path("", name="WS_PATH", text=True) == "/"
    assert parse_ws_path("  ", name="WS_PATH", text=True) == "/"
    assert websocket_from_environ({"WS_BACKEND": "memory", "WS_PATH": ""}).path == "/"


@pytest.mark.parametrize(
    ("value", "fault"),
    [
        ("ws", "expected a path starting with /, such as /ws."),
        ("/ws?x=1", "'?' starts a query string, which is not part of the path; expected a path such as /ws."),
        ("/a#b", "'#' starts a fragment, which clients never send; expected a path such as /ws."),
        ("/a b", "a space is not allowed in a path; expected a path such as /ws."),
        ("/a\tb", "'\\t' is not allowed in a path; expected a path such as /ws."),
    ],
    ids=["no-slash", "query", "fragment", "space", "tab"],
)
def test_a_bad_ws_path_is_named_with_what_is_wrong_and_an_example(value: str, fault: str) -> None:
    with pytest.raises(ConfigError) as error:
        websocket_from_environ({"WS_BACKEND": "memory", "WS_PATH": value})

    assert str(error.value) == f"WS_PATH={value!r}: {fault}" + fix("invalid-value")


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (
            ["--ws-path", "ws"],
            {},
            "asgi-lambda: --ws-path='ws': expected a path starting with /, such as /ws." + fix("invalid-value") + "\n",
        ),
        (
            [],
            {"WS_PATH": "chat"},
            "asgi-lambda: WS_PATH='chat': expected a path starting with /, such as /ws." + fix("invalid-value") + "\n",
        ),
        (
            ["--ws-path=/@gateway/x"],
            {},
            "asgi-lambda: --ws-path='/@gateway/x': the local gateway serves the Management API there; choose a path outside /@gateway\n",
        ),
    ],
    ids=["option", "variable", "management-api"],
)
def test_serve_checks_the_ws_path_as_lambda_does_naming_where_it_came_from(
    argv: list[str], environ: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)

    assert main(["serve", "main:app", *argv]) == 1
    assert capsys.readouterr().err == message
