"""Find the app that ASGI_APP names ("module:attribute"), as uvicorn's importer does.

Each fault has its own message; a ModuleNotFoundError raised inside the user's module (a
missing dependency) is re-raised unchanged, so it is not reported as a missing app.
"""

from __future__ import annotations

import importlib
from typing import Any

from .exceptions import AppImportError


def import_app(spec: str, *, variable: str = "ASGI_APP") -> Any:
    """Import `spec` ("package.module:attr.sub", a "/" in the module path accepted as Lambda's
    runtime does) and return the callable it names."""
    module_name, colon, attribute = spec.partition(":")
    module_name = module_name.strip().replace("/", ".")
    if not colon or not module_name or not attribute or ":" in attribute:
        hint = ""
        if not colon and "." in spec:
            hint = f" (did you mean {spec.rpartition('.')[0]}:{spec.rpartition('.')[2]}?)"
        raise AppImportError(f"{variable}={spec!r}: expected module:attribute, for example main:app{hint}.")
    if module_name.endswith(".py"):
        raise AppImportError(f"{variable}={spec!r}: name the module, not the file: {module_name[:-3]}:{attribute}.")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise  # something the module imports is missing: the user's own error, as is
        raise AppImportError(
            f"{variable}={spec!r}: no module named {exc.name!r}. The module must be in the function's "
            "code (LAMBDA_TASK_ROOT) or in a layer's python/ directory."
        ) from None
    app: Any = module
    for part in attribute.split("."):
        try:
            app = getattr(app, part)
        except AttributeError:
            raise AppImportError(f"{variable}={spec!r}: module {module_name!r} has no attribute {attribute!r}.") from None
    if not callable(app):
        raise AppImportError(
            f"{variable}={spec!r}: {module_name}.{attribute} is a {type(app).__name__}, not an ASGI app "
            "(an async callable taking scope, receive and send)."
        )
    return app
