"""Every option is declared once (asgi_lambda.settings.options.OPTIONS): Adapter's keywords, the
environment reader and the configuration reference's table of variables all come from that declaration."""

from __future__ import annotations

import importlib.util
import inspect
from types import ModuleType

import pytest

from asgi_lambda import Adapter, ConfigError
from asgi_lambda.docs import fix
from asgi_lambda.settings import KEYWORD_DEFAULTS, OPTIONS, Settings
from tests.support.paths import ROOT


def variables_table() -> ModuleType:
    spec = importlib.util.spec_from_file_location("variables_table", ROOT / "tools" / "variables_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_adapters_keywords_and_their_defaults_are_the_declared_ones() -> None:
    parameters = inspect.signature(Adapter.__init__).parameters
    keywords = {
        name: parameter.default for name, parameter in parameters.items() if name not in ("self", "app", "settings", "custom_handlers")
    }

    assert keywords == KEYWORD_DEFAULTS


def test_the_configuration_references_table_of_variables_is_the_one_the_declaration_makes() -> None:
    tool = variables_table()
    text = tool.PAGE.read_text(encoding="utf-8")
    first, last = tool.generated_region(text)

    assert text.splitlines()[first:last] == tool.rows()


def test_every_declared_variable_with_a_field_is_read_by_the_environment_reader() -> None:
    environ = {"ASGI_APP": "main:app", "ASGI_LIFESPAN": "off", "ASGI_INVOKE_MODE": "response_stream", "ASGI_ACCESS_LOG": "1"}

    settings = Settings.from_environ(environ)

    assert (settings.app, settings.lifespan, settings.invoke_mode, settings.access_log) == ("main:app", "off", "response_stream", True)
    assert {option.field for option in OPTIONS if option.field} <= set(Settings.__slots__)


def test_asgi_invoke_mode_is_checked_with_the_other_variables() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_environ({"ASGI_APP": "main:app", "ASGI_INVOKE_MODE": "stream"})

    assert str(caught.value).startswith("ASGI_INVOKE_MODE='stream': expected buffered or response_stream")


@pytest.mark.parametrize(
    ("variable", "keyword", "text", "value"),
    [("ASGI_ACCESS_LOG", "access_log", "false", False), ("ASGI_STRIP_ROOT_PATH", "strip_root_path", "yes", True)],
)
def test_a_switch_is_words_in_a_variable_and_a_bool_in_code(variable: str, keyword: str, text: str, value: bool) -> None:
    from_environ = Settings.from_environ({"ASGI_APP": "main:app", variable: text})
    from_arguments = Settings.from_arguments(**{keyword: value})

    assert from_environ == from_arguments.replace(app="main:app")
    with pytest.raises(ConfigError) as caught:
        Settings.from_arguments(**{keyword: text})
    assert str(caught.value) == f"{keyword}={text!r}: expected True or False." + fix("invalid-value")


def test_an_unknown_keyword_is_a_type_error() -> None:
    with pytest.raises(TypeError) as caught:
        Settings.from_arguments(lifespam="off")

    assert str(caught.value) == "Settings.from_arguments() got unexpected keyword arguments: lifespam"
