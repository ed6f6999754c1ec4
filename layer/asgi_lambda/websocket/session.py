"""A connection's session, and the connection whose event is running.

`scope["aws.session"]` is a dict that belongs to the connection: empty at $connect, where what the
app puts in it is saved with the connection, and restored at each later event of the connection
(each message, and $disconnect), since the app's coroutine does not live from one event to the
next. It is saved at the end of an event that changed it, one write; an event that leaves it as it
was writes nothing. Changed is judged on its saved form (compact JSON), compared with the form it
had when the event began.

What cannot be saved (not JSON, or larger than WS_SESSION_MAX_BYTES once saved) is logged with
the connection's id and left unsaved: the event still answers, and the session stays as it was.
Two events of one connection that change the session at once, in two execution environments,
each write the whole session: the later write wins.

`CURRENT_CONNECTION` is the event's connection as the send API sees it (join, leave and rooms
during $connect keep the rooms with the connection being accepted; on a later event they use the
record already read).
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from ..sources.common import printable

if TYPE_CHECKING:
    from ..stores.record import ConnectionRecord

logger = logging.getLogger("asgi_lambda.websocket")

SESSION_KEY = "aws.session"


class EventConnection:
    """The connection whose WebSocket event is running: its record (None while $connect is
    deciding), and the rooms it joins while it is being accepted."""

    __slots__ = ("connection_id", "record", "connecting", "rooms")

    def __init__(self, connection_id: str, *, record: ConnectionRecord | None = None) -> None:
        self.connection_id = connection_id
        self.record = record
        self.connecting = record is None
        self.rooms: list[str] = []


CURRENT_CONNECTION: ContextVar[EventConnection | None] = ContextVar("asgi_lambda_connection", default=None)


def event_connection(connection_id: str) -> EventConnection | None:
    """The running event's connection, when it is this one."""
    current = CURRENT_CONNECTION.get()
    return current if current is not None and current.connection_id == connection_id else None


def saved_form(session: Any) -> str:
    """The session as it is stored: compact JSON, strictly (no NaN). TypeError or ValueError when
    it is not JSON."""
    return json.dumps(session, separators=(",", ":"), allow_nan=False)


def give(scope: dict[str, Any], session: dict[str, Any]) -> str:
    """Put the session in the scope; its saved form, to tell a change by at the end of the event."""
    scope[SESSION_KEY] = session
    return saved_form(session)


def changed(scope: dict[str, Any], before: str, *, limit: int, connection_id: str) -> dict[str, Any] | None:
    """The session the app leaves in the scope, when it differs from `before` and can be saved; None
    when it is unchanged, or cannot be saved (logged: the previous one stays)."""
    session = scope.get(SESSION_KEY)
    if not isinstance(session, dict):
        logger.error(
            'WebSocket session of %s not saved: scope["aws.session"] is a %s, not a dict; the previous one is kept',
            connection_id,
            type(session).__name__,
        )
        return None
    try:
        after = saved_form(session)
    except (TypeError, ValueError) as exc:
        logger.error("WebSocket session of %s not saved: it is not JSON (%s); the previous one is kept", printable(connection_id), exc)
        return None
    if after == before:
        return None
    size = len(after.encode())
    if size > limit:
        logger.error(
            "WebSocket session of %s not saved: %d bytes as JSON, over WS_SESSION_MAX_BYTES=%d; the previous one is kept",
            connection_id,
            size,
            limit,
        )
        return None
    loaded: dict[str, Any] = json.loads(after)  # as the next event will get it: keys as text, tuples as lists
    return loaded
