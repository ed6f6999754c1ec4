"""ASGI_APP resolution: one message per fault, the user's own import errors left as they are."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from asgi_lambda.docs import fix
from asgi_lambda.exceptions import AppImportError
from asgi_lambda.importer import import_app


@pytest.fixture
def code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A function's code directory on sys.path, with a few modules in it."""
    (tmp_path / "main.py").write_text(
        textwrap.dedent(
            """
            async def app(scope, receive, send): pass
            settings = {'debug': False}
            async def item(): pass
            def helper(request): pass
            class Settings:
                def __init__(self): pass
            class Adapter:  # a Lambda handler, as asgi_lambda.Adapter is: (event, context)
                def __call__(self, event, context): pass
            handler = Adapter()
            class Legacy:  # ASGI 2: made with the scope, then called with receive and send
                def __init__(self, scope):
                    self.scope = scope
                async def __call__(self, receive, send):
                    await send({"type": "from-asgi2", "path": self.scope["path"]})
            """
        )
    )
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "web.py").write_text(
        textwrap.dedent(
            """
            class Api:
                async def app(self, scope, receive, send): pass
            api = Api()
            """
        )
    )
    (tmp_path / "broken_dependency.py").write_text("import not_installed_anywhere\napp = None\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in ["main", "pkg", "pkg.web", "broken_dependency"]:
        sys.modules.pop(name, None)


def test_module_colon_attribute(code: Path) -> None:
    import main  # type: ignore[import-not-found]

    assert import_app("main:app") is main.app


def test_dotted_module_and_dotted_attribute(code: Path) -> None:
    import pkg.web  # type: ignore[import-not-found]

    assert import_app("pkg.web:api.app") == pkg.web.api.app


def test_slashes_in_the_module_path_as_the_lambda_runtime_accepts(code: Path) -> None:
    import pkg.web

    assert import_app("pkg/web:api.app") == pkg.web.api.app


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("main.app", "ASGI_APP='main.app': expected module:attribute, for example main:app (did you mean main:app?)."),
        ("main", "ASGI_APP='main': expected module:attribute, for example main:app."),
        ("main:", "ASGI_APP='main:': expected module:attribute, for example main:app."),
        (":app", "ASGI_APP=':app': expected module:attribute, for example main:app."),
        ("main:app:x", "ASGI_APP='main:app:x': expected module:attribute, for example main:app."),
        ("main.py:app", "ASGI_APP='main.py:app': name the module, not the file: main:app."),
    ],
)
def test_wrong_form_is_named(code: Path, spec: str, message: str) -> None:
    with pytest.raises(AppImportError) as error:
        import_app(spec)

    assert str(error.value) == message + fix("asgi-app-format")


def test_missing_module_is_named(code: Path) -> None:
    with pytest.raises(AppImportError) as error:
        import_app("mian:app")

    assert str(error.value) == (
        "ASGI_APP='mian:app': no module named 'mian'. The module must be in the function's code "
        "(LAMBDA_TASK_ROOT) or in a layer's python/ directory." + fix("no-module-named")
    )


def test_missing_package_of_a_dotted_module_is_named(code: Path) -> None:
    with pytest.raises(AppImportError) as error:
        import_app("nopkg.web:app")

    assert str(error.value).startswith("ASGI_APP='nopkg.web:app': no module named 'nopkg'.")


def test_missing_attribute_is_named(code: Path) -> None:
    with pytest.raises(AppImportError) as error:
        import_app("main:ap")

    assert str(error.value) == "ASGI_APP='main:ap': module 'main' has no attribute 'ap'." + fix("no-attribute")


def test_attribute_that_is_not_callable_is_named(code: Path) -> None:
    with pytest.raises(AppImportError) as error:
        import_app("main:settings")

    assert str(error.value) == (
        "ASGI_APP='main:settings': main.settings is a dict, not an ASGI app (an async callable taking scope, receive and send) "
        "or a WSGI app (a callable taking environ and start_response)." + fix("not-an-asgi-app")
    )


def test_a_missing_dependency_inside_the_module_is_re_raised_unchanged(code: Path) -> None:
    with pytest.raises(ModuleNotFoundError) as error:
        import_app("broken_dependency:app")

    assert type(error.value) is ModuleNotFoundError
    assert error.value.name == "not_installed_anywhere"


def test_app_import_error_is_an_import_error_so_lambda_reports_import_module_error() -> None:
    assert issubclass(AppImportError, ImportError)


@pytest.mark.parametrize(
    ("spec", "found"),
    [
        ("main:item", "a coroutine function taking 0 arguments"),
        ("main:helper", "a function taking 1 argument"),
        ("main:Settings", "a class whose constructor takes 0 arguments"),
        ("main:handler", "an Adapter taking 2 arguments"),
    ],
    ids=["coroutine-function", "function", "class", "instance-an-before-a-vowel"],
)
def test_a_callable_that_is_not_an_asgi_app_is_named_with_what_it_is(code: Path, spec: str, found: str) -> None:
    with pytest.raises(AppImportError) as error:
        import_app(spec)

    module, attribute = spec.split(":")
    assert str(error.value) == (
        f"ASGI_APP={spec!r}: {module}.{attribute} is {found}, not an ASGI app (an async callable taking scope, receive "
        "and send) or a WSGI app (a callable taking environ and start_response); ASGI_APP must name the app itself, e.g. main:app."
        + fix("not-an-asgi-app")
    )


def test_an_asgi2_class_is_served_as_asgi3(code: Path) -> None:
    from asgi_lambda.protocols import loop

    app = import_app("main:Legacy")
    sent: list[dict[str, str]] = []

    async def send(message: dict[str, str]) -> None:
        sent.append(message)

    loop.run(app({"path": "/x"}, None, send))

    assert sent == [{"type": "from-asgi2", "path": "/x"}]


@pytest.mark.parametrize("framework_app", ["fastapi:FastAPI", "starlette.applications:Starlette", "quart:Quart"])
def test_framework_apps_are_asgi_apps(framework_app: str) -> None:
    module_name, _, class_name = framework_app.partition(":")
    app_class = getattr(__import__(module_name, fromlist=[class_name]), class_name)
    app = app_class(__name__) if class_name == "Quart" else app_class()
    sys.modules["framework_under_test"] = type(sys)("framework_under_test")
    sys.modules["framework_under_test"].app = app  # type: ignore[attr-defined]
    try:
        assert import_app("framework_under_test:app") is app
    finally:
        del sys.modules["framework_under_test"]
