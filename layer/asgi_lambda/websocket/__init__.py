"""API Gateway WebSocket APIs. Imported only when a WebSocket event arrives or the app uses the
send API, so an HTTP-only function never loads it, nor any store's library.

`send` and `broadcast` reach clients from any handler (see `send.py`)."""

from .send import broadcast, send

__all__ = ["broadcast", "send"]
