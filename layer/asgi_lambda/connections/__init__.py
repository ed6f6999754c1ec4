"""WebSocket connections between invocations: the bookkeeping around each WebSocket event
(`bookkeeping.py`), the store and Management API clients an adapter keeps (`hub.py`), the
signed Management API client (`management_api.py`) and the send API (`send.py`).

Imported only when a WebSocket event arrives or the app sends, so an HTTP-only function never
loads it, nor any store's library.
"""
