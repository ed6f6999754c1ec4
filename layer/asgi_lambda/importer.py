"""Find the app that ASGI_APP names ("module:attribute"), as uvicorn's importer does.

Each fault has its own message; a ModuleNotFoundError raised inside the user's module (a
missing dependency) is re-raised unchanged, so it is not reported as a missing app. What is
found must be an ASGI app: a callable taking scope, receive and send (ASGI 3), or a class taking
the scope whose instances take receive and send (ASGI 2, wrapped here as ASGI 3). Anything else,
a route function say, is named at init rather than answering 500 to every request.
"""

from __future__ import annotations

import importlib
import inspect
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
        raise AppImportError(f"{variable}={spec!r}: expected module:attribute, for example main:app{hint}.", fix="asgi-app-format")
    if module_name.endswith(".py"):
        raise AppImportError(f"{variable}={spec!r}: name the module, not the file: {module_name[:-3]}:{attribute}.", fix="asgi-app-format")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise  # something the module imports is missing: the user's own error, as is
        raise AppImportError(
            f"{variable}={spec!r}: no module named {exc.name!r}. The module must be in the function's "
            "code (LAMBDA_TASK_ROOT) or in a layer's python/ directory.",
            fix="no-module-named",
        ) from None
    app: Any = module
    for part in attribute.split("."):
        try:
            app = getattr(app, part)
        except AttributeError:
            raise AppImportError(
                f"{variable}={spec!r}: module {module_name!r} has no attribute {attribute!r}.", fix="no-attribute"
            ) from None
    if not callable(app):
        raise AppImportError(
            f"{variable}={spec!r}: {module_name}.{attribute} is a {type(app).__name__}, not an ASGI app "
            "(an async callable taking scope, receive and send).",
            fix="not-an-asgi-app",
        )
    if inspect.isclass(app) and takes(app, 1):
        return asgi2(app)
    if not takes(app, 3):
        found = (
            f"a class whose constructor takes {arity(app)}"
            if inspect.isclass(app)
            else f"{article(kind(app))} {kind(app)} taking {arity(app)}"
        )
        raise AppImportError(
            f"{variable}={spec!r}: {module_name}.{attribute} is {found}, not an ASGI app (an async callable taking "
            f"scope, receive and send); {variable} must name the app itself, e.g. main:app.",
            fix="not-an-asgi-app",
        )
    return app


def takes(target: Any, count: int) -> bool:
    """Whether `target` can be called with `count` positional arguments (True where Python cannot tell)."""
    try:
        inspect.signature(target).bind(*range(count))
    except TypeError:
        return False
    except ValueError:  # no signature to read (some builtins and extensions)
        return True
    return True


def arity(target: Any) -> str:
    try:
        parameters = inspect.signature(target).parameters
    except ValueError:
        return "unknown arguments"
    count = len([p for p in parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)])
    return "1 argument" if count == 1 else f"{count} arguments"


def article(noun: str) -> str:
    """ "an" before a vowel ("an Adapter"), else "a"."""
    return "an" if noun[:1].lower() in "aeiou" else "a"


def kind(target: Any) -> str:
    if inspect.iscoroutinefunction(target):
        return "coroutine function"
    return "function" if inspect.isfunction(target) or inspect.ismethod(target) else type(target).__name__


def asgi2(app_class: Any) -> Any:
    """An ASGI 2 app (instantiated per scope, then called with receive and send) as ASGI 3."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await app_class(scope)(receive, send)

    return app
