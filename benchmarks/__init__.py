"""Benchmarks: asgi_lambda's Adapter against Mangum 0.22. Run with `python -m benchmarks`."""
