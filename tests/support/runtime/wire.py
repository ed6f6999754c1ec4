"""What a runtime client sends the Runtime API, as the emulator receives it: each POST's path, headers
and body (`tap`), and a Runtime API that refuses what Lambda's refuses (`refuse_large_responses`: a
response over the 6 MB payload limit is answered 413, with the body Lambda's gives). The emulator
(asgi_lambda.local.runtime_api) keeps only what it needs to answer; the parity suite compares more."""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from typing import Any

from asgi_lambda.local.runtime_api import PREFIX, RuntimeAPI

PAYLOAD_LIMIT = 6 * 1024 * 1024 + 100  # what Lambda's message names: 6291556 bytes
TOO_LARGE = {"errorMessage": f"Exceeded maximum allowed payload size ({PAYLOAD_LIMIT} bytes).", "errorType": "RequestEntityTooLarge"}


@dataclass(frozen=True)
class Post:
    path: str  # after /2018-06-01/runtime/: "init/error", "invocation/<id>/response", ...
    headers: dict[str, str]  # names lower-cased
    body: bytes  # a buffered POST's body; b"" for a streamed one (the emulator records those itself)


class Tap:
    """Every POST the client makes from now on, in order, each recorded before the emulator answers it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.posts: list[Post] = []

    def record(self, post: Post) -> None:
        with self.lock:
            self.posts.append(post)


def tap(api: RuntimeAPI, *, refuse_large: bool = False) -> Tap:
    """Record `api`'s POSTs; with `refuse_large`, answer a buffered response or error over the limit 413."""
    tapped = Tap()
    handler: Any = api._server.RequestHandlerClass

    class Tapping(handler):  # type: ignore[misc,valid-type]
        def do_POST(self) -> None:
            headers = {name.lower(): value for name, value in self.headers.items()}
            path = self.path.removeprefix(PREFIX + "/")
            chunked = headers.get("transfer-encoding", "").lower() == "chunked"
            length = 0 if chunked else int(headers.get("content-length") or 0)
            body = b"" if chunked else self.rfile.read(length)
            tapped.record(Post(path, headers, body))
            if refuse_large and path.endswith(("/response", "/error")) and length > PAYLOAD_LIMIT:
                api.requests.append(("POST", self.path))
                self._send(413, TOO_LARGE)
                return
            original = self.rfile
            if not chunked:
                self.rfile = io.BytesIO(body)  # what was read, for the emulator to read again
            try:
                super().do_POST()
            finally:
                self.rfile = original

    api._server.RequestHandlerClass = Tapping
    return tapped
