"""`asgi-lambda serve APP` (or `python -m asgi_lambda serve APP`): the app on 127.0.0.1:8000 behind
emulated API Gateway HTTP and WebSocket APIs, through the handler the layer uses on Lambda.
`asgi-lambda event KIND` prints a sample event; `asgi-lambda invoke EVENT` runs one through that handler.

Bad input ends with one line on stderr naming the fault and a non-zero exit; Ctrl-C (or SIGTERM)
stops the server, runs the app's lifespan shutdown and exits 0.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import signal
import socket
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from ..exceptions import AppImportError, ConfigError, LifespanFailure
from .events import MANAGEMENT_PREFIX, WS_STAGE
from .function import FunctionError, InProcessFunction
from .gateway import Gateway
from .runtime_function import RuntimeFunction, function_environ
from .samples import KINDS, SampleRequest

if TYPE_CHECKING:
    import uvicorn

    from .function import Function

PROG = "asgi-lambda"


class Stop(Exception):
    """SIGTERM: stop as Ctrl-C does."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Tools for running ASGI apps on AWS Lambda.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="serve an ASGI app locally behind emulated API Gateway HTTP and WebSocket APIs",
        description="Serve APP behind emulated API Gateway HTTP and WebSocket APIs, through the handler "
        "the layer runs on Lambda (same ASGI_* and WS_* variables). Each request becomes a Lambda event.",
    )
    serve.add_argument("app", metavar="APP", help="the ASGI app as module:attribute, for example main:app")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    serve.add_argument(
        "--payload",
        choices=("v2", "v1"),
        default="v2",
        help="HTTP events: v2, an HTTP API's payload 2.0 (default); v1, a REST API's payload 1.0",
    )
    serve.add_argument("--alb", action="store_true", help="HTTP events as an Application Load Balancer sends them (multi-value headers on)")
    serve.add_argument("--ws-path", default="/ws", help="where WebSocket clients connect (default: /ws); WS_PATH defaults to it")
    serve.add_argument("--app-dir", default=".", help="directory the app is imported from, put first on sys.path (default: .)")
    serve.add_argument(
        "--runtime",
        action="store_true",
        help="run the function as Lambda does: the built layer's exec wrapper and awslambdaric in a child process, "
        "against a Runtime API emulator (needs a checkout of asgi-lambda and awslambdaric)",
    )
    event = commands.add_parser(
        "event",
        help="print a sample Lambda event of one kind, for `asgi-lambda invoke -`",
        description="Print a valid sample event of KIND, shaped as AWS documents it. HTTP kinds take the request "
        "from the options; non-HTTP kinds put --body where that service puts its message (and --path is S3's key).",
    )
    event.add_argument("kind", metavar="KIND", choices=list(KINDS), help=", ".join(KINDS))
    event.add_argument("--method", default="GET", help="the HTTP method (default: GET)")
    event.add_argument("--path", default="/", help="the path, with any query string (default: /)")
    event.add_argument("--header", action="append", default=[], metavar="NAME:VALUE", help="a request header (repeatable)")
    event.add_argument("--body", default="", help="the request body, or the message of a non-HTTP event")
    invoke = commands.add_parser(
        "invoke",
        help="run one event through the handler the layer installs and print the Lambda response",
        description="Run EVENT (a JSON file, or - for standard input) through the handler the layer makes "
        "from ASGI_* and WS_* (the app from --app or ASGI_APP), and print what Lambda would return.",
    )
    invoke.add_argument("event", metavar="EVENT", help="a JSON file with the event, or - to read it from standard input")
    invoke.add_argument("--app", default=None, help="the ASGI app as module:attribute (default: $ASGI_APP)")
    invoke.add_argument("--app-dir", default=".", help="directory the app is imported from, put first on sys.path (default: .)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed its message (or the help)
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    if args.command == "event":
        return print_event(args)
    if args.command == "invoke":
        return invoke_event(args)
    return serve(args)


def print_event(args: argparse.Namespace) -> int:
    headers = []
    for header in args.header:
        name, colon, value = header.partition(":")
        if not colon or not name.strip():
            return fail(f"--header {header!r}: expected NAME:VALUE, such as 'content-type: application/json'")
        headers.append((name, value))
    sample = SampleRequest(method=args.method, path=args.path, headers=headers, body=args.body)
    if not sample.path.startswith("/"):
        return fail(f"--path {args.path!r}: expected a path starting with /, such as /items?page=2")
    try:
        event = KINDS[args.kind](sample)
    except ValueError as exc:  # eventbridge's --body is the detail, as JSON
        return fail(f"--body {args.body!r}: {args.kind} takes a JSON object: {exc}")
    sys.stdout.write(json.dumps(event, indent=2) + "\n")
    return 0


def invoke_event(args: argparse.Namespace) -> int:
    """One event through Adapter.from_environ, as bootstrap.py makes the handler on Lambda."""
    try:
        text = sys.stdin.read() if args.event == "-" else Path(args.event).read_text()
    except OSError as exc:
        return fail(f"EVENT {args.event!r}: {exc.strerror or exc}")
    try:
        event = json.loads(text)
    except ValueError as exc:
        return fail(f"EVENT {args.event!r} is not JSON: {exc}")
    app = args.app or os.environ.get("ASGI_APP", "")
    if not app:
        return fail("no app: give --app module:attribute, or set ASGI_APP")
    sys.path.insert(0, str(Path(args.app_dir).resolve()))
    configure_logging()
    os.environ["ASGI_APP"] = app
    from ..adapter import Adapter
    from .function import LocalContext

    try:
        handler = Adapter.from_environ(os.environ, app_variable="--app" if args.app else "ASGI_APP")
    except (AppImportError, ConfigError, LifespanFailure) as exc:
        return fail(str(exc))
    try:
        response = handler(event, LocalContext("asgi-lambda-invoke"))
    except Exception as exc:  # what the runtime would report as the invocation's error
        sys.stdout.write(json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__}, indent=2) + "\n")
        return 1
    finally:
        handler.close()
    sys.stdout.write(json.dumps(response, indent=2) + "\n")
    return 0


def fail(message: str) -> int:
    sys.stderr.write(f"{PROG}: {message}\n")
    return 1


def serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn  # noqa: F401  (checked here, used in make_server)
        import websockets  # noqa: F401
    except ImportError as exc:
        return fail(f"serve needs uvicorn and websockets ({exc}): pip install 'asgi-lambda[local]'")
    if not args.ws_path.startswith("/") or args.ws_path.startswith(MANAGEMENT_PREFIX):
        return fail(f"--ws-path {args.ws_path!r}: expected a path starting with /, such as /ws, outside {MANAGEMENT_PREFIX}")
    if not 0 <= args.port <= 65535:
        return fail(f"--port {args.port}: expected a port number from 0 to 65535")
    if not Path(args.app_dir).is_dir():
        return fail(f"--app-dir {args.app_dir!r}: no such directory")
    try:
        sock = listen(args.host, args.port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return fail(f"port {args.port} is in use on {args.host}: choose another with --port")
        return fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    with sock:
        port: int = sock.getsockname()[1]
        base = f"http://{url_host(args.host)}:{port}"
        endpoint_url = f"{base}{MANAGEMENT_PREFIX}/{WS_STAGE}"
        app_dir = str(Path(args.app_dir).resolve())
        sys.path.insert(0, app_dir)
        configure_logging()
        os.environ.update(
            function_environ(
                os.environ, app=args.app, endpoint_url=endpoint_url, ws_path=args.ws_path, state_dir=Path(".asgi-lambda"), port=port
            )
        )
        function: Function = RuntimeFunction(app=args.app, app_dir=app_dir) if args.runtime else InProcessFunction(app_variable="APP")
        try:
            function.start()
        except AppImportError as exc:
            function.close()
            hint = f" (--app-dir is {app_dir})" if "no module named" in str(exc) else ""
            return fail(f"{exc}{hint}")
        except (ConfigError, LifespanFailure, FunctionError) as exc:
            function.close()
            return fail(str(exc))
        except ImportError as exc:  # raised by the app's own imports (a missing dependency)
            function.close()
            return fail(f"APP={args.app!r} failed to import: {type(exc).__name__}: {exc}")
        except KeyboardInterrupt:
            function.close()
            return 130
        except Exception as exc:
            function.close()
            traceback.print_exc()
            return fail(f"APP={args.app!r} failed at init: {type(exc).__name__}: {exc}")
        gateway = Gateway(function, port=port, payload=args.payload, alb=args.alb, ws_path=args.ws_path)
        print_banner(args, base=base, endpoint_url=endpoint_url)
        return run(make_server(gateway), sock, function)


def run(server: uvicorn.Server, sock: socket.socket, function: Function) -> int:
    """Serve until Ctrl-C or SIGTERM, then shut the function down (lifespan shutdown included)."""
    if threading_main():
        signal.signal(signal.SIGTERM, stop)
    try:
        server.run(sockets=[sock])  # uvicorn re-raises the signal that stopped it, once stopped
    except (KeyboardInterrupt, Stop):
        pass
    finally:
        try:
            function.close()
        except KeyboardInterrupt:
            return 130
    return 0 if server.started else 1


def make_server(gateway: Gateway) -> uvicorn.Server:
    """uvicorn serving the gateway; it logs one line per request itself, so uvicorn's are off."""
    import uvicorn

    config = uvicorn.Config(gateway, lifespan="off", access_log=False, log_level="warning", ws="auto")
    return uvicorn.Server(config)


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so a port in use is told plainly (uvicorn takes it over)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: no wait after a restart
        sock.bind((host, port))
        sock.listen(2048)  # clients queue from now on, while the function's init runs
    except BaseException:
        sock.close()
        raise
    return sock


def url_host(host: str) -> str:
    """The host clients (and the handler's Management API client) use to reach this server."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def configure_logging() -> None:
    """Logs on stderr, as the runtime sends them to CloudWatch: asgi_lambda's at INFO (startup,
    app errors with tracebacks), others at WARNING."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("asgi_lambda").setLevel(logging.INFO)


def print_banner(args: argparse.Namespace, *, base: str, endpoint_url: str) -> None:
    source = (
        "Application Load Balancer (multi-value headers)"
        if args.alb
        else {"v2": "HTTP API, payload 2.0", "v1": "REST API, payload 1.0"}[args.payload]
    )
    store = os.environ.get("WS_BACKEND", "")
    if store == "sqlite":
        store += f" ({os.environ.get('WS_SQLITE_PATH', '')})"
    mode = "in a Lambda runtime (awslambdaric, the built layer)" if args.runtime else "in this process"
    lines = [
        f"{PROG}: serving {args.app} {mode}, behind emulated API Gateway",
        f"  HTTP          {base}/   ({source})",
        f"  WebSocket     ws{base[4:]}{args.ws_path}   (connections: {store})",
        f"  Management    {endpoint_url}/@connections/{{id}}   (WS_ENDPOINT_URL={os.environ.get('WS_ENDPOINT_URL', '')})",
        "Press Ctrl-C to stop.",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def stop(signum: int, frame: FrameType | None) -> None:
    raise Stop()


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
