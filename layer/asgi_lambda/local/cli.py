"""`asgi-lambda serve APP` (or `python -m asgi_lambda serve APP`): the app on 127.0.0.1:8000 behind
emulated API Gateway HTTP and WebSocket APIs, through the handler the layer uses on Lambda.
`asgi-lambda event KIND` prints a sample event; `asgi-lambda invoke [APP] EVENT` runs one through
that handler (invoke.py).

`serve` and `invoke` take the app from APP (or --app), else ASGI_APP; `--env-file` sets variables
first (env_file.py); `--reload` serves from a child process started afresh on each change
(reload.py); `--stream` relays each response as the function streams it, as a Function URL in
RESPONSE_STREAM mode (streaming.py). State (the default SQLite store) goes under the cache
directory (state.py).

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
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..exceptions import AppImportError, ConfigError, LifespanFailure
from ..settings.options import DEFAULT_WS_PATH, LOG_LEVELS, parse_base_path, parse_ws_path
from .env_file import EnvFileError, load_env_file, read_env_file
from .events import MANAGEMENT_PREFIX, WS_STAGE
from .function import FunctionError, InProcessFunction
from .gateway import Gateway, print_line
from .runtime_function import RuntimeFunction, function_environ, managed
from .samples import KINDS, SampleRequest
from .streaming import InProcessStreamingFunction

if TYPE_CHECKING:
    import uvicorn

    from .function import Function

PROG = "asgi-lambda"


class Stop(Exception):
    """SIGTERM: stop as Ctrl-C does."""


class CommandParser(argparse.ArgumentParser):
    """A command's parser that takes its positionals wherever they stand among the options
    (`invoke main:app --app-dir src -`), as argparse's intermixed parsing does: the plain parse
    fills APP and EVENT from the words before the first option only, so EVENT got the app."""

    intermixing = False

    def parse_known_args(  # type: ignore[override]  # one signature for typeshed's overloads
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self.intermixing:  # the intermixed parse's own passes (before 3.13 it calls this method)
            return super().parse_known_args(args, namespace)
        self.intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self.intermixing = False


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Tools for running ASGI apps on AWS Lambda.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=CommandParser)
    serve = commands.add_parser(
        "serve",
        help="serve an ASGI app locally behind emulated API Gateway HTTP and WebSocket APIs",
        description="Serve APP behind emulated API Gateway HTTP and WebSocket APIs, through the handler "
        "the layer runs on Lambda (same ASGI_* and WS_* variables). Each request becomes a Lambda event.",
    )
    serve.add_argument("app", metavar="APP", nargs="?", help="the ASGI app as module:attribute, for example main:app (default: $ASGI_APP)")
    serve.add_argument("--app", dest="app_option", metavar="APP", help="the app, as APP (either form)")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    serve.add_argument(
        "--payload",
        choices=("v2", "v1"),
        default="v2",
        help="HTTP events: v2, an HTTP API's payload 2.0 (default); v1, a REST API's payload 1.0",
    )
    serve.add_argument("--alb", action="store_true", help="HTTP events as an Application Load Balancer sends them (multi-value headers on)")
    serve.add_argument(
        "--ws-path",
        # Lambda's default, from the same variable: WS_PATH when set, else / (websocket_settings.py).
        default=os.environ.get("WS_PATH", "").strip() or DEFAULT_WS_PATH,
        help="where WebSocket clients connect, and the path their scope gets (default: $WS_PATH, else /, as on Lambda)",
    )
    serve.add_argument("--app-dir", default=".", help="directory the app is imported from, put first on sys.path (default: .)")
    serve.add_argument(
        "--root-path",
        default="",
        metavar="PATH",
        help="serve the app under PATH, as a custom domain's base path mapping does: the function gets ASGI_BASE_PATH=PATH "
        "(scope root_path), and requests outside PATH are answered 404 (default: none)",
    )
    serve.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        help="the level of the asgi_lambda logger and of the gateway's lines: at warning and above, one line per request "
        "is no longer printed; under --runtime, a level given here also sets the function's AWS_LAMBDA_LOG_LEVEL, as "
        "Lambda's application log level does (default: info; under --runtime without it, the function logs as on Lambda)",
    )
    serve.add_argument(
        "--runtime",
        action="store_true",
        help="run the function as Lambda does: the built layer's exec wrapper and its runtime client (awslambdaric with "
        "ASGI_RUNTIME=managed) in a child process, against a Runtime API emulator (needs a checkout of asgi-lambda)",
    )
    serve.add_argument(
        "--max-concurrency",
        type=int,
        default=1,
        metavar="N",
        help="with --runtime: the emulator hands out up to N events at once and the function gets "
        "AWS_LAMBDA_MAX_CONCURRENCY=N, as on Lambda Managed Instances (default: 1)",
    )
    serve.add_argument(
        "--stream",
        action="store_true",
        help="stream responses as a Function URL with InvokeMode RESPONSE_STREAM does (with --payload v1, a REST method with "
        "responseTransferMode STREAM): the function runs with ASGI_INVOKE_MODE=response_stream and each part of the body "
        "reaches the client as the app sends it (curl -N shows Server-Sent Events as they come)",
    )
    serve.add_argument(
        "--env-file",
        metavar="FILE",
        help="set the variables of a dotenv file (KEY=VALUE lines, # comments, quotes) before the app is imported; "
        "variables already set in the environment win, as with uvicorn",
    )
    serve.add_argument(
        "--reload",
        action="store_true",
        help="restart the server, importing the app afresh, when a *.py file under --app-dir changes",
    )
    serve.add_argument("--fd", type=int, help=argparse.SUPPRESS)  # --reload's child: serve on this inherited socket
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
        "from ASGI_* and WS_* (the app from APP, --app or ASGI_APP; an Adapter built in code is taken as it is), "
        "and print what Lambda would return. A WebSocket event's replies go to WS_ENDPOINT_URL, else to a "
        "Management API served here, which prints them on stderr; one not delivered exits 1.",
    )
    invoke.add_argument("app", metavar="APP", nargs="?", help="the ASGI app as module:attribute, for example main:app (default: $ASGI_APP)")
    invoke.add_argument("event", metavar="EVENT", help="a JSON file with the event, or - to read it from standard input")
    invoke.add_argument("--app", dest="app_option", metavar="APP", help="the app, as APP (either form)")
    invoke.add_argument("--app-dir", default=".", help="directory the app is imported from, put first on sys.path (default: .)")
    invoke.add_argument(
        "--env-file",
        metavar="FILE",
        help="set the variables of a dotenv file before the app is imported; variables already set in the environment win",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse(argv)
    if isinstance(args, int):
        return args
    try:
        if args.command == "event":
            return print_event(args)
        if args.command == "invoke":
            from .invoke import invoke

            app, app_variable = chosen_app(args)
            if app_variable == "":
                return fail(app)
            return invoke(event_name=args.event, app=app, app_variable=app_variable, app_dir=args.app_dir, env_file=args.env_file)
    except BrokenPipeError:
        # The reader went away (`... | head`): stop as other command-line tools do, without a
        # traceback, and keep Python's exit-time flush of stdout from raising again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return serve(args, argv)


def parse(argv: Sequence[str]) -> argparse.Namespace | int:
    """The arguments, or the exit status once argparse has printed its message (or the help)."""
    try:
        return build_parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2


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


def chosen_app(args: argparse.Namespace) -> tuple[str, str]:
    """The app given as APP or as --app, and how messages name it; ("", "ASGI_APP") when neither is
    given; (the fault, "") when both are, naming different apps."""
    if args.app and args.app_option and args.app != args.app_option:
        return f"APP {args.app!r} and --app {args.app_option!r}: give the app once", ""
    if args.app_option:
        return args.app_option, "--app"
    if args.app:
        return args.app, "APP"
    return "", "ASGI_APP"


def fail(message: str) -> int:
    sys.stderr.write(f"{PROG}: {message}\n")
    return 1


def serve(args: argparse.Namespace, argv: Sequence[str]) -> int:
    try:
        import uvicorn  # noqa: F401  (checked here, used in make_server)
        import websockets  # noqa: F401
    except ImportError as exc:
        return fail(f"serve needs uvicorn and websockets ({exc}): pip install uvicorn websockets")
    supervisor = args.reload and args.fd is None  # --reload's own process: it watches, a child serves
    variables: dict[str, str] = {}
    if args.env_file is not None:
        try:
            variables = read_env_file(Path(args.env_file))
        except EnvFileError as exc:
            return fail(str(exc))
        if not supervisor:  # the supervisor leaves them to each child, which reads the file afresh
            load_env_file(variables, os.environ)
            parsed = parse(argv)  # again: defaults taken from variables (--ws-path's) see the file's
            if isinstance(parsed, int):
                return parsed
            args = parsed
    # --runtime's function gets the level only when given: else it logs as on Lambda, at the
    # environment's AWS_LAMBDA_LOG_LEVEL if set, else at the runtime's default (WARNING).
    runtime_log_level = args.log_level or ""
    args.log_level = args.log_level or "info"
    app, app_variable = chosen_app(args)
    if app_variable == "":
        return fail(app)
    if not app:
        app = os.environ.get("ASGI_APP", "").strip() or variables.get("ASGI_APP", "").strip()
    if not app:
        return fail("no app: give APP (or --app) as module:attribute, such as main:app, or set ASGI_APP")
    try:
        root_path = args.root_path = parse_base_path(args.root_path, name="--root-path", text=True)
    except ConfigError as exc:
        return fail(str(exc))
    # The same check as on Lambda, naming where the value came from.
    ws_path_from = "--ws-path" if any(arg == "--ws-path" or arg.startswith("--ws-path=") for arg in argv) else "WS_PATH"
    try:
        args.ws_path = parse_ws_path(args.ws_path, name=ws_path_from, text=True)
    except ConfigError as exc:
        return fail(str(exc))
    if args.ws_path.startswith(MANAGEMENT_PREFIX):
        return fail(
            f"{ws_path_from}={args.ws_path!r}: the local gateway serves the Management API there; choose a path outside {MANAGEMENT_PREFIX}"
        )
    if args.stream and args.alb:
        return fail("--stream with --alb: an Application Load Balancer cannot stream responses; drop one of them")
    if args.max_concurrency < 1:
        return fail(f"--max-concurrency {args.max_concurrency}: expected a whole number of invocations above 0")
    if args.max_concurrency > 1 and not args.runtime:
        return fail("--max-concurrency needs --runtime: in this process the function takes one invocation at a time")
    if not 0 <= args.port <= 65535:
        return fail(f"--port {args.port}: expected a port number from 0 to 65535")
    if not Path(args.app_dir).is_dir():
        return fail(f"--app-dir {args.app_dir!r}: no such directory")
    try:
        sock = socket.socket(fileno=args.fd) if args.fd is not None else listen(args.host, args.port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return fail(f"port {args.port} is in use on {args.host}: choose another with --port")
        return fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    if supervisor:
        from .reload import Reloader

        with sock:
            return Reloader([sys.executable, "-m", "asgi_lambda", *argv], sock, watch=Path(args.app_dir).resolve(), prog=PROG).run()
    if args.fd is not None:
        from .reload import watch_parent

        watch_parent()
    with sock:
        port: int = sock.getsockname()[1]
        base = f"http://{url_host(args.host)}:{port}"
        endpoint_url = f"{base}{MANAGEMENT_PREFIX}/{WS_STAGE}"
        app_dir = str(Path(args.app_dir).resolve())
        sys.path.insert(0, app_dir)
        configure_logging(args.log_level)
        os.environ.update(function_environ(os.environ, app=app, endpoint_url=endpoint_url, ws_path=args.ws_path, port=port))
        if root_path:
            os.environ["ASGI_BASE_PATH"] = root_path
        function: Function
        if args.runtime:
            function = RuntimeFunction(
                app=app, app_dir=app_dir, stream=args.stream, max_concurrency=args.max_concurrency, log_level=runtime_log_level
            )
        elif args.stream:
            function = InProcessStreamingFunction(app_variable=app_variable)
        else:
            function = InProcessFunction(app_variable=app_variable)
        try:
            function.start()
        except KeyboardInterrupt:
            function.close()
            return 130
        except Exception as exc:
            function.close()
            message = init_failure(exc, app=app, app_variable=app_variable, app_dir=app_dir)
            if args.fd is None:
                return fail(message)
            # --reload's child: answer every request with the error until a change restarts it, as uvicorn does.
            fail(message)
            return run(make_server(InitFailed(message, traceback.format_exc()), log_level=args.log_level), sock, None)
        log = print_line if logging.getLevelName(args.log_level.upper()) <= logging.INFO else ignore_line
        gateway = Gateway(
            function, port=port, payload=args.payload, alb=args.alb, ws_path=args.ws_path, stream=args.stream, root_path=root_path, log=log
        )
        print_banner(args, app=app, base=base, endpoint_url=endpoint_url)
        return run(make_server(gateway, log_level=args.log_level), sock, function)


def init_failure(exc: Exception, *, app: str, app_variable: str, app_dir: str) -> str:
    """The one line that says why the function's init failed."""
    if isinstance(exc, AppImportError):
        hint = f" (--app-dir is {app_dir})" if "no module named" in str(exc) else ""
        return f"{exc}{hint}"
    if isinstance(exc, (ConfigError, LifespanFailure, FunctionError)):
        return str(exc)
    if isinstance(exc, ImportError):  # raised by the app's own imports (a missing dependency)
        return f"{app_variable}={app!r} failed to import: {type(exc).__name__}: {exc}"
    traceback.print_exc()
    return f"{app_variable}={app!r} failed at init: {type(exc).__name__}: {exc}"


class InitFailed:
    """Under --reload, while the app cannot start: every HTTP request answered 500 with the error and
    its traceback as text, every WebSocket handshake refused, until a change starts a new child."""

    def __init__(self, message: str, trace: str) -> None:
        self.body = f"{PROG}: the app failed to start; fix it and save: the server restarts on the change.\n\n{message}\n\n{trace}".encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(self.body)).encode())]
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": self.body})
        elif scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.close", "code": 1011})


def ignore_line(line: str) -> None:
    """--log-level warning and above: no line per request."""


def run(server: uvicorn.Server, sock: socket.socket, function: Function | None) -> int:
    """Serve until Ctrl-C or SIGTERM, then shut the function down (lifespan shutdown included)."""
    if threading_main():
        signal.signal(signal.SIGTERM, stop)
    try:
        server.run(sockets=[sock])  # uvicorn re-raises the signal that stopped it, once stopped
    except (KeyboardInterrupt, Stop):
        pass
    finally:
        try:
            if function is not None:
                function.close()
        except KeyboardInterrupt:
            return 130
    return 0 if server.started else 1


def make_server(gateway: Any, *, log_level: str = "info") -> uvicorn.Server:
    """uvicorn serving the gateway; it logs one line per request itself, so uvicorn's are off, and
    uvicorn's own at warning unless --log-level asks for debug. The client's address is the socket's,
    as API Gateway's sourceIp is: uvicorn would otherwise take a loopback client's X-Forwarded-For for
    it (proxy_headers), which API Gateway never lets a client set."""
    import uvicorn

    level = log_level if log_level in ("debug", "warning", "error", "critical") else "warning"
    config = uvicorn.Config(gateway, lifespan="off", access_log=False, log_level=level, ws="auto", proxy_headers=False)
    logging.getLogger("uvicorn.error").addFilter(handshake_answered)
    return uvicorn.Server(config)


def handshake_answered(record: logging.LogRecord) -> bool:
    """Drop uvicorn's "returned without completing handshake" error: its websockets implementation
    logs it after a handshake answered with an HTTP response (a refused $connect's status), which
    does complete it."""
    return not record.getMessage().startswith("ASGI callable returned without completing handshake")


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


def configure_logging(level: str = "info") -> None:
    """Logs on stderr, as the runtime sends them to CloudWatch: asgi_lambda's at `level` (--log-level;
    info: startup, app errors with tracebacks), others at WARNING."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("asgi_lambda").setLevel(level.upper())


def print_banner(args: argparse.Namespace, *, app: str, base: str, endpoint_url: str) -> None:
    if args.stream:
        source = {"v2": "Function URL, InvokeMode RESPONSE_STREAM", "v1": "REST API, responseTransferMode STREAM"}[args.payload]
    elif args.alb:
        source = "Application Load Balancer (multi-value headers)"
    else:
        source = {"v2": "HTTP API, payload 2.0", "v1": "REST API, payload 1.0"}[args.payload]
    store = os.environ.get("WS_BACKEND", "")
    if store == "sqlite":
        store += f" ({os.environ.get('WS_SQLITE_PATH', '')})"
    client = "awslambdaric" if managed(os.environ) else "the layer's own runtime client"
    at_once = f", {args.max_concurrency} invocations at once" if args.max_concurrency > 1 else ""
    if args.runtime:
        mode = f"in a Lambda runtime ({client}, the built layer{at_once})"
    else:
        mode = "in a child process, started afresh on each change (--reload)" if args.fd is not None else "in this process"
    lines = [
        f"{PROG}: serving {app} {mode}, behind emulated API Gateway",
        f"  HTTP          {base}{args.root_path}/   ({source})",
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
