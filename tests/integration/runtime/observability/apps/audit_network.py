"""Records every network call the function's process makes, for tests/integration/runtime/test_observability.py.

Loaded from a .pth file in the task root, which the runtime's bootstrap.py processes before it imports
the handler, so it sees whatever the observability library does from its first import on. Each socket
audit event (PEP 578) is written as one line to the file AUDIT_NETWORK_LOG names. The runtime client
talks to the Runtime API from C (libcurl), so its own traffic is not among them.
"""

import os
import sys

_log = open(os.environ["AUDIT_NETWORK_LOG"], "a", buffering=1)  # open for the life of the process


def _record(event: str, args: tuple[object, ...]) -> None:
    if event.startswith("socket."):
        # connect, sendto and bind name the socket first; the address is what matters
        details = args[1:] if event in ("socket.connect", "socket.sendto", "socket.bind") else args
        _log.write(f"{event} {details!r}\n")


sys.addaudithook(_record)
