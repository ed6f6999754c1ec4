"""Find the app that ASGI_APP names ("module:attribute"), as uvicorn's importer does.

Each fault has its own message; a ModuleNotFoundError raised inside the user's module (a
missing dependency) is re-raised unchanged, so it is not reported as a missing app. What is
found must be an ASGI app: a callable taking scope, receive and send (ASGI 3), or a class taking
the scope whose instances take receive and send (ASGI 2, wrapped here as ASGI 3); or a WSGI app, a
callable taking environ and start_response (served by protocols/wsgi.py). Anything else, a route
function say, is named at init rather than answering 500 to every request. `detect` and `resolve`
are the one rule of what an app is, for ASGI_APP and `Adapter(app)` alike (ASGI_INTERFACE, `interface=`).
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, Literal

from .exceptions import AppImportError, ConfigError

Interface = Literal["asgi3", "asgi2", "wsgi"]


def import_app(spec: str, *, variable: str = "ASGI_APP", interface: str = "auto", option: str = "ASGI_INTERFACE") -> Any:
    """Import `spec` ("package.module:attr.sub", a "/" in the module path accepted as Lambda's
    runtime does) and return the app it names: ASGI 3 or WSGI as found, ASGI 2 wrapped as ASGI 3.
    `interface` (ASGI_INTERFACE, the `option`) forces what it must be."""
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
            f"{variable}={spec!r}: {module_name}.{attribute} is {article(type(app).__name__)} {type(app).__name__}, not {APP}.",
            fix="not-an-asgi-app",
        )
    where = f"{variable}={spec!r}: {module_name}.{attribute}"
    if interface == "auto" and detect(app) is None:
        found = (
            f"a class whose constructor takes {arity(app)}"
            if inspect.isclass(app)
            else f"{article(kind(app))} {kind(app)} taking {arity(app)}"
        )
        raise AppImportError(f"{where} is {found}, not {APP}; {variable} must name the app itself, e.g. main:app.", fix="not-an-asgi-app")
    return resolve(app, interface, where=where, option=option)[1]


# What an app is, for the messages that say what was found or expected.
ASGI3 = "an ASGI app (an async callable taking scope, receive and send)"
ASGI2 = "an ASGI 2 app (a class taking the scope, whose instances take receive and send)"
WSGI = "a WSGI app (a callable taking environ and start_response)"
APP = f"{ASGI3} or {WSGI}"
FOUND = {"asgi3": ASGI3, "asgi2": ASGI2, "wsgi": WSGI}


def detect(app: Any) -> Interface | None:
    """What `app` is, from its shape: uvicorn's `--interface auto` rule (a coroutine function is
    ASGI 3, a class without `__await__` ASGI 2), with WSGI added and the arguments counted: a class
    with `__await__`, or a callable taking scope, receive and send, is ASGI 3; a class made with the
    scope alone is ASGI 2; a synchronous callable taking environ and start_response (and not three
    arguments, nor named event and context as a Lambda handler's) is WSGI. None: none of them."""
    if inspect.isclass(app):
        if hasattr(app, "__await__") or takes(app, 3):
            return "asgi3"
        if takes(app, 1):
            return "asgi2"
        return "wsgi" if takes(app, 2) else None
    if takes(app, 3):
        return "asgi3"  # a callable taking *args is taken for ASGI, as it always was: ASGI_INTERFACE=wsgi says otherwise
    return "wsgi" if takes(app, 2) and not is_async(app) and not lambda_handler(app) else None


def lambda_handler(app: Any) -> bool:
    """Whether `app` takes (event, context), as a Lambda handler does (an `Adapter` among them): two
    arguments, as a WSGI app's, but a handler named by mistake, to be refused at init."""
    try:
        parameters = list(inspect.signature(app).parameters)
    except (TypeError, ValueError):
        return False
    return parameters[:2] == ["event", "context"]


def fits(app: Any, interface: Interface) -> bool:
    """Whether `app` can be called as `interface` asks: what a forced ASGI_INTERFACE needs."""
    if interface == "wsgi":
        return not is_async(app) and not hasattr(app, "__await__") and takes(app, 2)
    if interface == "asgi2":
        return takes(app, 1)
    return detect(app) == "asgi3"


def is_async(app: Any) -> bool:
    call = getattr(app, "__call__", None)  # noqa: B004  (the method itself, to ask whether it is async)
    return inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(call)


def resolve(app: Any, interface: str, *, where: str = "the app", option: str = "interface") -> tuple[Interface, Any]:
    """The app's interface (`interface`, or `detect`'s for "auto") and what to run: the app itself,
    or an ASGI 2 app wrapped as ASGI 3. A forced interface the app plainly does not have (`wsgi` for
    an ASGI app, `asgi3` or `asgi2` for a WSGI app) is refused, saying what was found. In "auto", a
    callable of no known shape is taken for ASGI 3, as it always was (ASGI_APP's import refuses it first)."""
    if interface == "auto":
        chosen: Interface = detect(app) or "asgi3"
    else:
        chosen = interface  # type: ignore[assignment]  # checked by settings/options.py
        if not fits(app, chosen):
            found = detect(app)
            what = FOUND[found] if found else f"{article(kind(app))} {kind(app)} taking {arity(app)}"
            fix = f"set {option} to {found}, or unset it (auto)" if option.isupper() else f"give {option}={found!r}, or leave it out"
            raise ConfigError(
                f"{option}={interface!r}, but {where} is {what}, not {FOUND[chosen]}: {fix if found else 'name the app itself'}.",
                fix="interface-mismatch",
            )
    if chosen == "asgi2":
        return "asgi3", asgi2(app)
    return chosen, app


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
