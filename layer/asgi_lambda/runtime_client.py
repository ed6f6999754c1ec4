"""`python -m asgi_lambda.runtime_client [module.handler]` and `asgi_lambda.runtime_client.serve(handler)`:
the names the exec wrapper, container images and custom runtimes use for the layer's Runtime API
client, which lives in `runtime/`."""

from .runtime.client import main, serve

__all__ = ["main", "serve"]

if __name__ == "__main__":
    main()
