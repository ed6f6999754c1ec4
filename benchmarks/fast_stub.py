"""A Management API stand-in cheap enough for 100,000 posts: an asyncio Protocol, in a process of its own.

`python -m benchmarks.fast_stub DELAY_MS` listens on 127.0.0.1 (a free port, printed on its first
line), answers every POST /{stage}/@connections/{id} with 200 after DELAY_MS milliseconds (as API
Gateway takes a few), and keeps each connection alive; GET /count answers {"posts": N, "ids": M}
(posts in all, distinct connections); GET /reset forgets them. It ends when its standard input
closes. tests/support/management_api.py's stub records every call on threads: right for tests, too
dear in CPU to time a fan-out's 100,000 posts on a 2-core machine (this one spends some 30 µs a post).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys

OK = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
LENGTH = re.compile(rb"(?i)\r\ncontent-length:\s*(\d+)")


class Counts:
    def __init__(self) -> None:
        self.posts = 0
        self.ids: set[bytes] = set()


class Stub(asyncio.Protocol):
    def __init__(self, counts: Counts, delay: float) -> None:
        self.counts = counts
        self.delay = delay
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            found = LENGTH.search(self.buffer, 0, end + 2)
            total = end + 4 + (int(found.group(1)) if found else 0)
            if len(self.buffer) < total:
                return
            head, self.buffer = self.buffer[:end], self.buffer[total:]
            method, path, _ = head.split(b" ", 2)
            if method == b"POST":
                self.counts.posts += 1
                self.counts.ids.add(path.rsplit(b"/", 1)[1])
                asyncio.get_running_loop().call_later(self.delay, self.answer, OK)
            else:
                if path.endswith(b"/reset"):
                    self.counts.posts, self.counts.ids = 0, set()
                body = json.dumps({"posts": self.counts.posts, "ids": len(self.counts.ids)}).encode()
                self.answer(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))

    def answer(self, response: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(response)


async def serve(delay: float) -> None:
    counts = Counts()
    running_loop = asyncio.get_running_loop()
    server = await running_loop.create_server(lambda: Stub(counts, delay), "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    await running_loop.run_in_executor(None, sys.stdin.read)  # until the parent closes it
    os._exit(0)


if __name__ == "__main__":
    asyncio.run(serve(float(sys.argv[1]) / 1000))
