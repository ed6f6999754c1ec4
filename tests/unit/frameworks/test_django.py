"""Django through the adapter, beyond the matrix (test_matrix.py): Django derives SCRIPT_NAME and
PATH_INFO from `root_path` and `path`, so it needs no FORCE_SCRIPT_NAME; it has no lifespan, and
neither has Django Channels' ProtocolTypeRouter."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings

from asgi_lambda import Adapter
from asgi_lambda.docs import fix
from asgi_lambda.exceptions import LifespanFailure
from tests.support.frameworks.apps.django_app import app, channels_app
from tests.support.frameworks.matrix import request


@pytest.mark.parametrize(
    ("base", "script_name"),
    [("stage", "/prod"), ("domain", "/v1")],
)
def test_django_takes_script_name_from_root_path_without_force_script_name(base: str, script_name: str) -> None:
    assert settings.FORCE_SCRIPT_NAME is None

    response = Adapter(app, api_gateway_base_path="/v1")(request(path="/where", base=base), None)

    assert (response["statusCode"], json.loads(response["body"])) == (200, {"script_name": script_name, "path_info": "/where"})


@pytest.mark.parametrize("asgi_app", [app, channels_app], ids=["django", "channels"])
def test_django_and_channels_have_no_lifespan_so_lifespan_on_refuses_them(asgi_app: Any) -> None:
    # "auto", the default, carries on without it (test_matrix.py); "on" names the fix.
    with pytest.raises(LifespanFailure) as failure:
        Adapter(asgi_app, lifespan="on")

    assert str(failure.value).startswith("lifespan='on' but the app raised ValueError(")
    assert str(failure.value).endswith("Use lifespan='auto' or 'off' for apps without lifespan." + fix("lifespan-not-supported"))
