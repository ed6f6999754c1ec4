"""`python -m asgi_lambda serve main:app`: the local gateway (asgi_lambda.local.cli)."""

from .local.cli import main

raise SystemExit(main())
