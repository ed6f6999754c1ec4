"""API Gateway WebSocket APIs. Imported only when a WebSocket event arrives or the send API is
used, so an HTTP-only function never loads it, nor any store's library."""
