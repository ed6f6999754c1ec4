"""Issue #23, finding 4: no password reaches a configuration error or a log line.

On Lambda a ConfigError's text is the init error in CloudWatch. Five spellings showed the password:
a `ws_config` dict with a `uri`, a misspelt scheme, a URL with one slash, a password with an
unencoded / # ?, and a quoted keyword-DSN password. Each has its exact message below; then a
property: random passwords (with / # ? ' spaces @ :) in every DSN form and config shape the package
accepts or refuses never appear in any message or log line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asgi_lambda import ConfigError
from asgi_lambda.docs import fix
from asgi_lambda.protocols import loop
from asgi_lambda.settings import Settings
from asgi_lambda.stores import StoreUnavailable
from asgi_lambda.stores.failures import describe_failure, mask_password
from asgi_lambda.websocket.hub import ConnectionHub

POSTGRES_EXAMPLES = (
    "dynamodb://table?region=eu-west-1, s3://bucket/prefix/, postgresql://user@host/db, redis://host:6379/0, "
    "sqlite://connections.db or memory://."
)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: Settings.from_arguments(
                environ={}, ws_config={"backend": "postgresql", "params": {"uri": "postgresql://u:S3cretPW@h/db"}, "extra": 1}
            ),
            "ws_config={'backend': 'postgresql', 'params': {'uri': 'postgresql://u:***@h/db'}, 'extra': 1}: "
            "expected {'backend': NAME, 'params': {...}}." + fix("ws-config"),
        ),
        (
            lambda: Settings.from_arguments(
                environ={}, ws_config={"backend": "postgresql", "params": {"password": "S3cretPW", "host": "h"}, "x": 0}
            ),
            "ws_config={'backend': 'postgresql', 'params': {'password': '***', 'host': 'h'}, 'x': 0}: "
            "expected {'backend': NAME, 'params': {...}}." + fix("ws-config"),
        ),
        (
            lambda: Settings.from_arguments(environ={}, dsn="postgresq://u:S3cretPW@h/db"),
            f"dsn='postgresq://u:***@h/db': expected a URI such as {POSTGRES_EXAMPLES}" + fix("ws-config"),
        ),
        (
            lambda: Settings.from_environ({"ASGI_APP": "x:y", "WS_BACKEND": "postgresql", "WS_POSTGRES_DSN": "postgresql:/u:S3cret@h/db"}),
            "WS_POSTGRES_DSN='postgresql:/u:***@h/db': expected a URL starting with postgresql:// or postgres://." + fix("invalid-value"),
        ),
        (
            lambda: Settings.from_arguments(environ={}, dsn="postgres:/u:pa/ss#wo?rd@h/db"),
            f"dsn='postgres:/u:***@h/db': expected a URI such as {POSTGRES_EXAMPLES}" + fix("ws-config"),
        ),
        (
            lambda: Settings.from_environ(
                {"ASGI_APP": "x:y", "WS_BACKEND": "postgresql", "WS_POSTGRES_DSN": "host=h password='my secret' dbname=db"}
            ),
            "WS_POSTGRES_DSN='host=h password=*** dbname=db': expected a URL starting with postgresql:// or postgres://."
            + fix("invalid-value"),
        ),
        (
            lambda: Settings.from_arguments(environ={}, ws_config={"backend": "redis://:S3cretPW@cache:6379/0"}),
            "ws_config['backend']='redis://:***@cache:6379/0': expected one of dynamodb, s3, postgresql, redis, sqlite, memory "
            "(or postgres, sqlite3)." + fix("invalid-value"),
        ),
    ],
    ids=[
        "ws_config-uri",
        "ws_config-password",
        "misspelt-scheme",
        "one-slash",
        "unencoded-characters",
        "keyword-dsn-quoted",
        "dsn-as-backend",
    ],
)
def test_a_configuration_error_shows_no_password(build: Callable[[], Any], message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        build()

    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("dsn", "masked"),
    [
        ("postgresql://u:pa/ss@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:pa#ss@h:5432/db?sslmode=require", "postgresql://u:***@h:5432/db?sslmode=require"),
        ("postgresql://u:p@ss?w:rd@h/db", "postgresql://u:***@h/db"),
        ("postgresql://h/db?user=u&password=S3cret&sslmode=require", "postgresql://h/db?user=u&password=***&sslmode=require"),
        ("host=h user=u password='it''s \\'quoted\\' too' dbname=db", "host=h user=u password=*** dbname=db"),
        ('host=h password = "a b" dbname=db', "host=h password = *** dbname=db"),
        ("rediss://default:S3cret@cache:6380/0", "rediss://default:***@cache:6380/0"),
        ("u:S3cret@h/db", "u:***@h/db"),
        ("postgresql://user@host/db", "postgresql://user@host/db"),
    ],
)
def test_mask_password_masks_every_form(dsn: str, masked: str) -> None:
    assert mask_password(dsn) == masked


def test_a_store_errors_repetition_of_the_password_is_scrubbed_as_given_and_encoded() -> None:
    url = "postgresql://u:pa'ss+1@h/db"
    error = ValueError("could not connect to 'postgresql://u:pa'ss+1@h/db' as u (pa%27ss%2B1)")

    assert (
        describe_failure(error, url, timeouts=(), connect_timeout=5)
        == "ValueError: could not connect to 'postgresql://u:***@h/db' as u (***)"
    )


def test_a_password_the_url_cannot_hold_is_not_quoted_in_pieces() -> None:
    # redis-py reads "redis://:Qv7/Zx4@cache:6379/0" as port "Qv7" of host "": its words hold a piece.
    error = ValueError("Port could not be cast to integer value as 'Qv7'")

    assert describe_failure(error, "redis://:Qv7/Zx4@cache:6379/0", timeouts=(), connect_timeout=5) == (
        "the URL's password holds characters a URL reserves (/ # ? @ % or spaces), so the client misreads the URL; "
        "percent-encode the password, such as with urllib.parse.quote(password, safe='')"
    )


# --- the property --------------------------------------------------------------------------------

# Markers at both ends: a message that shows any end of the password, cut at any of its special
# characters, shows one of them.
FRONT, BACK = "Qv7", "Zx4"
MIDDLE = st.text(alphabet=st.sampled_from("abcXYZ019/#?'@: %&=\\\"+;"), min_size=0, max_size=16)
PASSWORDS = MIDDLE.map(lambda middle: f"{FRONT}{middle}{BACK}")


def libpq_quoted(password: str) -> str:
    return "'" + password.replace("\\", "\\\\").replace("'", "\\'") + "'"


def spellings(password: str) -> list[tuple[str, Callable[[], Any]]]:
    """Every way the package is given a store with this password, accepted or refused."""
    encoded = quote(password, safe="")
    urls = [
        # Port 1 of 127.0.0.1: nothing listens, so a connection is refused at once.
        f"postgresql://user:{password}@127.0.0.1:1/app",
        f"postgresql://user:{encoded}@127.0.0.1:1/app",
        f"postgres://user:{password}@127.0.0.1:1/app?sslmode=disable",
        f"postgresq://user:{password}@127.0.0.1:1/app",
        f"postgresql:/user:{password}@127.0.0.1:1/app",
        f"postgresql://127.0.0.1:1/app?user=u&password={encoded}",
        f"redis://:{password}@cache.example:6379/0",
        f"rediss://default:{encoded}@cache.example:6380/0",
        f"redis:/:{password}@cache.example:6379/0",
        f"redis://cache.example:6379/0?password={encoded}",
    ]
    keyword = f"host=127.0.0.1 port=1 user=u password={libpq_quoted(password)} dbname=app"
    ways: list[tuple[str, Callable[[], Any]]] = []
    for url in [*urls, keyword]:
        ways.append((f"dsn={url}", lambda url=url: Settings.from_arguments(environ={}, dsn=url)))
        for backend, variable in (("postgresql", "WS_POSTGRES_DSN"), ("redis", "WS_REDIS_URL")):
            environ = {"ASGI_APP": "x:y", "WS_BACKEND": backend, variable: url}
            ways.append((f"{variable}={url}", lambda environ=environ: Settings.from_environ(environ)))
            for key in ("uri", "dsn", "url"):
                config = {"backend": backend, "params": {key: url}}
                ways.append((f"ws_config {config}", lambda config=config: Settings.from_arguments(environ={}, ws_config=config)))
            bad_shape = {"backend": backend, "params": {"uri": url, "url": url}, "unexpected": True}
            ways.append(("ws_config bad shape", lambda config=bad_shape: Settings.from_arguments(environ={}, ws_config=config)))
    for backend in ("postgresql", "redis"):
        parts = {"backend": backend, "params": {"database": "app", "host": "127.0.0.1", "port": 1, "password": password}}
        ways.append(("ws_config parts", lambda config=parts: Settings.from_arguments(environ={}, ws_config=config)))
        typo = {"backend": backend, "params": {"pasword": password, "host": "h"}}
        ways.append(("ws_config typo", lambda config=typo: Settings.from_arguments(environ={}, ws_config=config)))
    ways.append(("backend typo", lambda: Settings.from_arguments(environ={}, ws_config={"backend": urls[0]})))
    return ways


@contextmanager
def every_log_line() -> Iterator[list[str]]:
    """Each line logged meanwhile, at any level, formatted as a handler would."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Keep(logging.DEBUG)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def texts_of(build: Callable[[], Any]) -> list[str]:
    """What a user reads of this configuration: the error, or, accepted, the store's own words for
    where it is and its error once used: its client's words on the URL, or on the refused connection."""
    try:
        settings_ = build()
    except ConfigError as exc:
        return [str(exc)]
    texts = []
    if settings_.websocket is not None:
        store = ConnectionHub(settings_.websocket).store
        texts.append(getattr(store, "_where", ""))
        try:
            if store.name == "redis":
                store._get_client()  # type: ignore[attr-defined]  (the URL read, nothing sent: cache.example is not reached)
            else:
                loop.run(store.load("connection="))
        except StoreUnavailable as exc:
            texts.append(str(exc))
        loop.run(store.close())
    return texts


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(password=PASSWORDS)
def test_no_password_appears_in_any_message_or_log_line(password: str) -> None:
    for spelling, build in spellings(password):
        with every_log_line() as lines:
            texts = texts_of(build)
        for text in [*texts, *lines]:
            for secret in (password, quote(password, safe=""), FRONT, BACK):
                assert secret not in text, f"{spelling}: {text}"
