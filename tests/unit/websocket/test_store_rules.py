"""Which store a name means, and which stores Lambda refuses, whatever the spelling: WS_BACKEND,
Mangum's ws_config or a dsn."""

from __future__ import annotations

from pathlib import Path

import pytest

from asgi_lambda import ConfigError
from asgi_lambda.docs import fix
from asgi_lambda.settings.websocket import on_lambda, websocket_from_dsn, websocket_from_environ, websocket_from_ws_config

# What Lambda sets (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
LAMBDA = {"AWS_LAMBDA_FUNCTION_NAME": "chat", "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13"}

WHY = (
    "but on Lambda each execution environment has its own memory and /tmp: a connection would live in one "
    "environment only, and the events other environments handle would not find it; use dynamodb, redis, "
    "postgresql or s3, or sqlite with its file on an EFS mount (such as /mnt/efs/connections.sqlite3)."
) + fix("store-not-shared")

# --- aliases ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("spelling", "backend"), [("postgres", "postgresql"), ("postgresql", "postgresql"), ("POSTGRES", "postgresql")])
def test_postgres_and_postgresql_in_ws_backend_and_ws_config(spelling: str, backend: str) -> None:
    dsn = "postgresql://postgres@127.0.0.1/db"

    from_environ = websocket_from_environ({"WS_BACKEND": spelling, "WS_POSTGRES_DSN": dsn})
    from_code = websocket_from_ws_config({"backend": spelling, "params": {"uri": dsn}}, {})

    assert (from_environ.backend, from_environ.store_options) == (backend, {"dsn": dsn})
    assert (from_code.backend, from_code.store_options) == (backend, {"dsn": dsn})


@pytest.mark.parametrize(("spelling", "backend"), [("sqlite3", "sqlite"), ("sqlite", "sqlite"), ("SQLite3", "sqlite")])
def test_sqlite3_and_sqlite_in_ws_backend_and_ws_config(spelling: str, backend: str, tmp_path: Path) -> None:
    path = str(tmp_path / "connections.sqlite3")

    from_environ = websocket_from_environ({"WS_BACKEND": spelling, "WS_SQLITE_PATH": path})
    from_code = websocket_from_ws_config({"backend": spelling, "params": {"file_path": path}}, {})

    assert (from_environ.backend, from_environ.store_options) == (backend, {"path": path})
    assert (from_code.backend, from_code.store_options) == (backend, {"path": path})


@pytest.mark.parametrize(("dsn", "backend"), [("postgres://h/db", "postgresql"), ("sqlite3://c.db", "sqlite")])
def test_the_aliases_are_dsn_schemes_too(dsn: str, backend: str) -> None:
    assert websocket_from_dsn(dsn, {}).backend == backend


# --- what counts as Lambda ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (LAMBDA, True),
        ({"AWS_LAMBDA_FUNCTION_NAME": "chat"}, True),  # a container image may not set AWS_EXECUTION_ENV
        ({"AWS_EXECUTION_ENV": "AWS_Lambda_python3.12"}, True),
        ({"AWS_EXECUTION_ENV": "AWS_ECS_FARGATE"}, False),
        ({}, False),
        ({**LAMBDA, "AWS_SAM_LOCAL": "true"}, False),  # sam local, serve --runtime: one environment
    ],
)
def test_on_lambda_is_what_lambda_sets(environ: dict[str, str], expected: bool) -> None:
    assert on_lambda(environ) is expected


# --- the memory store, and sqlite under /tmp, refused on Lambda -------------------------------------


def refusal(make: object) -> str:
    with pytest.raises(ConfigError) as error:
        make()  # type: ignore[operator]
    return str(error.value)


def test_memory_is_refused_on_lambda_in_every_spelling() -> None:
    assert refusal(lambda: websocket_from_environ({"WS_BACKEND": "memory", **LAMBDA})) == (
        f"WS_BACKEND=memory keeps connections in this process's memory, {WHY}"
    )
    assert refusal(lambda: websocket_from_ws_config({"backend": "memory"}, LAMBDA)) == (
        f"ws_config['backend']='memory' keeps connections in this process's memory, {WHY}"
    )
    assert refusal(lambda: websocket_from_dsn("memory://", LAMBDA)) == f"dsn='memory://' keeps connections in this process's memory, {WHY}"


def test_sqlites_default_file_under_tmp_is_refused_on_lambda() -> None:
    assert refusal(lambda: websocket_from_environ({"WS_BACKEND": "sqlite", **LAMBDA})) == (
        f"WS_SQLITE_PATH='/tmp/asgi-lambda-{{uid}}/connections.sqlite3' (the default) is under /tmp, {WHY}"
    )
    assert refusal(lambda: websocket_from_ws_config({"backend": "sqlite3"}, LAMBDA)) == (
        f"ws_config['params']['file_path']='/tmp/asgi-lambda-{{uid}}/connections.sqlite3' (the default) is under /tmp, {WHY}"
    )


@pytest.mark.parametrize("path", ["/tmp/connections.db", "/tmp/app/../state/connections.db", "/tmp"])
def test_any_sqlite_file_under_tmp_is_refused_on_lambda(path: str) -> None:
    assert refusal(lambda: websocket_from_environ({"WS_BACKEND": "sqlite", "WS_SQLITE_PATH": path, **LAMBDA})) == (
        f"WS_SQLITE_PATH={path!r} is under /tmp, {WHY}"
    )
    assert refusal(lambda: websocket_from_dsn(f"sqlite://{path}", LAMBDA)) == f"dsn file={path!r} is under /tmp, {WHY}"


def test_an_in_memory_sqlite_database_is_refused_on_lambda() -> None:
    assert refusal(lambda: websocket_from_environ({"WS_BACKEND": "sqlite", "WS_SQLITE_PATH": ":memory:", **LAMBDA})) == (
        f"WS_SQLITE_PATH=':memory:' is in this process's memory, {WHY}"
    )


def test_sqlite_on_an_efs_mount_stays_allowed_on_lambda() -> None:
    settings = websocket_from_environ({"WS_BACKEND": "sqlite", "WS_SQLITE_PATH": "/mnt/efs/connections.sqlite3", **LAMBDA})
    from_code = websocket_from_ws_config({"backend": "sqlite", "params": {"file_path": "/mnt/efs/c.db"}}, LAMBDA)

    assert (settings.backend, settings.store_options) == ("sqlite", {"path": "/mnt/efs/connections.sqlite3"})
    assert from_code.store_options == {"path": "/mnt/efs/c.db"}


def test_memory_and_sqlite_under_tmp_stay_allowed_off_lambda() -> None:
    # `asgi-lambda serve` (in process) and tests: one process, one store.
    assert websocket_from_environ({"WS_BACKEND": "memory"}).backend == "memory"
    assert websocket_from_environ({"WS_BACKEND": "sqlite"}).store_options == {"path": "/tmp/asgi-lambda-{uid}/connections.sqlite3"}
    assert websocket_from_dsn("memory://", {}).backend == "memory"


@pytest.mark.parametrize(
    "environ",
    [
        {"WS_BACKEND": "dynamodb", "WS_DYNAMODB_TABLE": "connections"},
        {"WS_BACKEND": "s3", "WS_S3_BUCKET": "bucket"},
        {"WS_BACKEND": "postgres", "WS_POSTGRES_DSN": "postgresql://h/db"},
        {"WS_BACKEND": "redis", "WS_REDIS_URL": "redis://h:6379/0"},
    ],
    ids=lambda environ: environ["WS_BACKEND"],
)
def test_shared_stores_are_allowed_on_lambda(environ: dict[str, str]) -> None:
    assert websocket_from_environ({**environ, **LAMBDA}).backend in ("dynamodb", "s3", "postgresql", "redis")
