"""A real Django app through the adapter: Django derives SCRIPT_NAME and PATH_INFO from
`root_path` and `path`."""

from __future__ import annotations

import json

import django
from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="test-only",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
    )
    django.setup()

from django.core.asgi import get_asgi_application  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path, reverse  # noqa: E402

from asgi_lambda import Adapter  # noqa: E402

from ..conftest import load_event  # noqa: E402


def item(request: HttpRequest, item_id: int) -> JsonResponse:
    return JsonResponse(
        {
            "script_name": request.META["SCRIPT_NAME"],
            "path_info": request.path_info,
            "absolute": request.build_absolute_uri(reverse("item", args=[item_id])),
            "tags": request.GET.getlist("tag"),
        }
    )


urlpatterns = [path("items/<int:item_id>", item, name="item")]


def test_django_sees_the_stage_as_script_name() -> None:
    # Django has no lifespan support: "auto" carries on without it.
    response = Adapter(get_asgi_application())(load_event("apigw_rest_get"), None)

    assert (response["statusCode"], json.loads(response["body"])) == (
        200,
        {
            "script_name": "/prod",
            "path_info": "/items/42",
            "absolute": "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/items/42",
            "tags": ["a", "b"],
        },
    )
