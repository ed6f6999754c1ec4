"""Issue #23, finding 2: the SQLite store's file is private to the user.

The attack: on a shared machine another user creates the store's file first, at the fixed default
path in world-writable /tmp, and plants a record whose endpoint is their own server; the victim's
broadcasts then go there, signed with the victim's AWS credentials, and the attacker reads the
stored cookies. The default now lives in a directory of the user's own (0700, the file 0600), and
a file or directory another user owns, or that group or others may write, is refused, naming it.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from pathlib import Path

import pytest

from asgi_lambda.protocols import loop
from asgi_lambda.settings.websocket import websocket_from_environ
from asgi_lambda.stores import StoreUnavailable
from asgi_lambda.stores.record import ConnectionRecord
from asgi_lambda.stores.sqlite import SqliteStore
from asgi_lambda.websocket.hub import ConnectionHub

NOBODY = 65534  # another user: tests run as root here, which may give a file away


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def planted_store(path: Path) -> None:
    """What the attacker leaves: the store's table, holding a record that sends replies to them."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE asgi_lambda_connections (connection_id TEXT PRIMARY KEY, data TEXT NOT NULL, expires_at INTEGER NOT NULL)")
    record = ConnectionRecord("victim=", endpoint="http://127.0.0.1:9/attacker", scope={}, expires_at=int(time.time()) + 3600)
    db.execute("INSERT INTO asgi_lambda_connections VALUES (?, ?, ?)", (record.connection_id, record.to_json(), record.expires_at))
    db.commit()
    db.close()


def refusal(store: SqliteStore) -> str:
    with pytest.raises(StoreUnavailable) as refused:
        loop.run(store.scan())
    loop.run(store.close())
    return str(refused.value)


@pytest.fixture
def private_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "state"
    directory.mkdir(mode=0o700)
    directory.chmod(0o700)
    return directory


def test_the_default_file_is_in_a_directory_of_the_users_own() -> None:
    hub = ConnectionHub(websocket_from_environ({"WS_BACKEND": "sqlite"}))
    store = hub.store
    assert isinstance(store, SqliteStore)

    assert store.path == f"/tmp/asgi-lambda-{os.getuid()}/connections.sqlite3"


def test_the_default_directory_is_created_0700_and_the_file_0600(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The default's form, `{uid}` in a directory that does not exist yet, under a tmp_path of this test's.
    monkeypatch.setattr("asgi_lambda.stores.sqlite.SQLITE_DEFAULT_PATH", f"{tmp_path}/asgi-lambda-{{uid}}/connections.sqlite3")
    previous = os.umask(0o022)  # a usual umask: files 0644, directories 0755, unless made otherwise
    try:
        store = SqliteStore(f"{tmp_path}/asgi-lambda-{{uid}}/connections.sqlite3")
        loop.run(store.save(ConnectionRecord("c=", endpoint="http://127.0.0.1:1/prod", scope={}, expires_at=int(time.time()) + 60)))
        loop.run(store.close())
    finally:
        os.umask(previous)

    directory = tmp_path / f"asgi-lambda-{os.getuid()}"
    assert (mode(directory), mode(directory / "connections.sqlite3")) == (0o700, 0o600)
    assert {mode(path) for path in directory.iterdir()} == {0o600}  # -wal and -shm too


def test_a_file_planted_by_another_user_is_refused(private_dir: Path) -> None:
    path = private_dir / "connections.sqlite3"
    planted_store(path)
    os.chown(path, NOBODY, NOBODY)
    path.chmod(0o600)

    assert refusal(SqliteStore(str(path))) == (
        f"sqlite store at WS_SQLITE_PATH={str(path)!r}: the file {str(path)!r} belongs to another user (uid {NOBODY}), who could "
        "plant connection records in it and read the stored ones; use a file in a directory of your own"
    )


def test_a_file_others_may_write_is_refused(private_dir: Path) -> None:
    path = private_dir / "connections.sqlite3"
    planted_store(path)
    path.chmod(0o666)

    assert refusal(SqliteStore(str(path))) == (
        f"sqlite store at WS_SQLITE_PATH={str(path)!r}: the file {str(path)!r} is writable by group or others (mode 0666), who could "
        f"plant connection records in it and read the stored ones; chmod go-w {path}, or use a directory only you can write"
    )


def test_a_directory_others_may_write_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # as /tmp is
    path = shared / "connections.sqlite3"

    assert refusal(SqliteStore(str(path))) == (
        f"sqlite store at WS_SQLITE_PATH={str(path)!r}: the directory {str(shared)!r} is writable by group or others (mode 1777), "
        f"who could plant connection records in it and read the stored ones; chmod go-w {shared}, or use a directory only you can write"
    )
    assert not path.exists()


def test_a_directory_of_another_users_is_refused(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o755)
    os.chown(theirs, NOBODY, NOBODY)
    path = theirs / "connections.sqlite3"

    assert refusal(SqliteStore(str(path))) == (
        f"sqlite store at WS_SQLITE_PATH={str(path)!r}: the directory {str(theirs)!r} belongs to another user (uid {NOBODY}), "
        "who could plant connection records in it and read the stored ones; use a file in a directory of your own"
    )


def test_a_symbolic_link_planted_at_the_path_is_not_followed(private_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.sqlite3"
    path = private_dir / "connections.sqlite3"
    path.symlink_to(target)

    assert refusal(SqliteStore(str(path))) == f"sqlite store at WS_SQLITE_PATH={str(path)!r}: Too many levels of symbolic links"
    assert not target.exists()


def test_a_file_of_the_users_own_readable_by_others_is_made_private(private_dir: Path) -> None:
    path = private_dir / "connections.sqlite3"
    path.touch(mode=0o644)
    path.chmod(0o644)
    store = SqliteStore(str(path))

    assert loop.run(store.scan()) == []
    loop.run(store.close())
    assert mode(path) == 0o600


def test_the_local_gateways_state_directory_is_private(tmp_path: Path) -> None:
    from asgi_lambda.local.runtime_function import function_environ

    state = tmp_path / ".asgi-lambda"
    added = function_environ(
        {}, app="main:app", endpoint_url="http://127.0.0.1:1/@gateway/local", ws_path="/ws", state_dir=state, port=8000
    )
    store = SqliteStore(added["WS_SQLITE_PATH"])
    assert loop.run(store.scan()) == []
    loop.run(store.close())

    assert (mode(state), mode(state / "connections-8000.sqlite3")) == (0o700, 0o600)
