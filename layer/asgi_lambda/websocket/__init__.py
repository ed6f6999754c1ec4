"""`from asgi_lambda.websocket import broadcast, send, join, leave, rooms`: the send API and rooms
(send.py, rooms.py); also importable from `asgi_lambda` itself."""

from .rooms import join, leave, rooms
from .send import broadcast, send

__all__ = ["broadcast", "join", "leave", "rooms", "send"]
