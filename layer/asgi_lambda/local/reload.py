"""`serve --reload`: the server in a child process, started afresh when a source file changes.

This process binds the port once and hands the listening socket to each child (`--fd`), so a
client that comes during a restart waits in the queue instead of being refused. It polls the
modification times of the `*.py` files under the app directory (standard library only: a few
hundred files take about a millisecond), and on a change stops the child as Ctrl-C does (the
app's lifespan shutdown runs) and starts another, which imports the app anew. A child that
exits on its own (the app failed to import, say) is started again at the next change.

Each child has its own session, so Ctrl-C reaches this process only, which passes it on once;
a child whose parent has gone stops itself (`watch_parent`).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

POLL_SECONDS = 0.25
STOP_SECONDS = 15.0  # a child still running this long after SIGINT is killed
SKIPPED_DIRECTORIES = frozenset({"__pycache__", "node_modules", "site-packages"})

Snapshot = dict[str, tuple[int, int]]


def snapshot(root: Path) -> Snapshot:
    """(mtime, size) of every *.py file under root, leaving out hidden directories, caches and virtualenvs."""
    files: Snapshot = {}
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = [name for name in subdirectories if watched(directory, name)]
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                try:
                    stat = os.stat(path)
                except OSError:  # removed since the listing
                    continue
                files[path] = (stat.st_mtime_ns, stat.st_size)
    return files


def watched(parent: str, name: str) -> bool:
    """Not a hidden directory, a cache or a virtualenv (whatever its name: it has pyvenv.cfg)."""
    return not name.startswith(".") and name not in SKIPPED_DIRECTORIES and not os.path.exists(os.path.join(parent, name, "pyvenv.cfg"))


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """The files added, removed or modified, sorted."""
    return sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))


class Reloader:
    """Runs `command` (the same serve command, with `--fd`) in a child, restarting it on changes."""

    def __init__(self, command: Sequence[str], sock: socket.socket, *, watch: Path, prog: str) -> None:
        self.command = [*command, "--fd", str(sock.fileno())]
        self.sock = sock
        self.watch = watch
        self.prog = prog
        self.child: subprocess.Popen[bytes] | None = None
        self.stopping = False

    def run(self) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self.stop)
        self.say(f"watching {self.watch} for changes to *.py files")
        files = snapshot(self.watch)
        self.start()
        reported = False
        try:
            while not self.stopping:
                time.sleep(POLL_SECONDS)  # a signal ends the sleep early: its handler only sets the flag
                current = snapshot(self.watch)
                changed = changes(files, current)
                files = current
                if changed and not self.stopping:
                    self.say(f"{os.path.relpath(changed[0], self.watch)} changed: restarting")
                    self.end_child()
                    self.start()
                    reported = False
                elif self.child is not None and self.child.poll() is not None and not reported:
                    self.say(f"the server exited ({self.child.returncode}); it starts again when a file changes")
                    reported = True
        finally:
            self.end_child()
        return 0

    def start(self) -> None:
        self.child = subprocess.Popen(self.command, pass_fds=[self.sock.fileno()], start_new_session=True)

    def end_child(self) -> None:
        """Stop the child as Ctrl-C would, so the app's lifespan shutdown runs; kill it if it lingers."""
        child = self.child
        if child is None or child.poll() is not None:
            return
        child.send_signal(signal.SIGINT)
        try:
            child.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()

    def stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def say(self, message: str) -> None:
        sys.stderr.write(f"{self.prog}: {message}\n")
        sys.stderr.flush()


def watch_parent() -> None:
    """In a child of the reloader: stop as on SIGTERM once the reloader has gone (killed outright,
    it could not stop us), so no server is left holding the port."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()
