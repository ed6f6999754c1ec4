"""The matrix app in Django (`app`), as WSGI (`wsgi_app`), and with Django Channels for its WebSocket (`channels_app`)
(tests/support/frameworks/matrix.py lists the routes). One module configures Django's settings for
both: Django's settings are the process's. No FORCE_SCRIPT_NAME: Django takes SCRIPT_NAME
from `root_path`, so reverse() carries the stage by itself."""

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
        LOGGING_CONFIG=None,
    )
    django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpRequest, HttpResponse, JsonResponse  # noqa: E402
from django.urls import path, reverse  # noqa: E402


def item(request: HttpRequest, item_id: int) -> JsonResponse:
    return JsonResponse(
        {
            "item_id": item_id,
            "tags": request.GET.getlist("tag"),
            "session": request.COOKIES.get("session"),
            "url": request.build_absolute_uri(reverse("item", args=[item_id])),
            "started": False,  # Django has no lifespan; AppConfig.ready runs at django.setup()
        }
    )


def where(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"script_name": request.META["SCRIPT_NAME"], "path_info": request.path_info})


def form(request: HttpRequest) -> JsonResponse:
    return JsonResponse(request.POST.dict())


def json_echo(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"received": json.loads(request.body)})


def upload(request: HttpRequest) -> JsonResponse:
    file = request.FILES["file"]
    return JsonResponse({"filename": file.name, "size": len(file.read()), "note": request.POST["note"]})


def binary(request: HttpRequest) -> HttpResponse:
    return HttpResponse(bytes(range(256)), content_type="application/octet-stream")


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


urlpatterns = [
    path("items/<int:item_id>", item, name="item"),
    path("where", where),
    path("form", form),
    path("json", json_echo),
    path("upload", upload),
    path("binary", binary),
    path("boom", boom),
]


class Echo(AsyncWebsocketConsumer):
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.send(text_data=f"echo: {text_data}")


app = get_asgi_application()
wsgi_app = get_wsgi_application()  # the same project as WSGI: the "django-wsgi" row
channels_app = ProtocolTypeRouter({"http": app, "websocket": URLRouter([path("ws", Echo.as_asgi())])})
