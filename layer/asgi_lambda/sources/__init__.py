"""Event sources: each module maps one kind of Lambda event to an ASGI scope and shapes the
app's response the way that source expects it back (the `EventSource` protocol in types.py)."""
