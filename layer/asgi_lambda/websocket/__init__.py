"""`from asgi_lambda.websocket import broadcast, send`: the send API's first home, kept for the
code that imports it from here (`connections/send.py` has it)."""

from .send import broadcast, send

__all__ = ["broadcast", "send"]
