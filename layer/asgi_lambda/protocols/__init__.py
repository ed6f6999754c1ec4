"""The ASGI protocols the adapter runs: one HTTP request (`http_cycle.py`), the app's lifespan
(`lifespan.py`), both on the one event loop that lives across invocations (`loop.py`). The
WebSocket cycle is `websocket/cycle.py`, imported with the rest of the WebSocket code."""
