"""The layer's own Lambda Runtime API client: the connection to the API (`api.py`), the invocation
loop (`client.py`), streamed responses (`stream.py`), and what the managed Python runtime gives a
function besides the protocol: its handler (`handler.py`), context (`context.py`) and logs (`logs.py`).
"""
