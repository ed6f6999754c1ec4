"""The Flask case: one Flask app behind asgi_lambda's Adapter (a WSGI app found by its shape), apig-wsgi's
handler and serverless-wsgi's `handle_request`, per call in one interleaved run, and the cold start of
each (importing the adapter, making the handler, the first call) in fresh interpreters. A fourth
column, a2wsgi's WSGIMiddleware behind our Adapter, shows what the bridge Starlette points to costs.

The same rules as latency.py: rounds of N calls of each, the order turned every round, the median of
each side's per-round means. The app is imported before the clock starts in the cold start, since
all three serve the same Flask app: what is measured is what the adapter adds.
"""

from __future__ import annotations

import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from .events import http_api_v2_event, rest_v1_event
from .latency import Handler, mean_call_us

PER_CALL_TARGET = 1.1  # ours / apig-wsgi (issue #22)
COLD_TARGET = 1.1  # "an equal cold start": within the noise of fresh interpreters

APP_SOURCE = """
from flask import Flask, request

app = Flask("bench")


@app.get("/items/<int:item_id>")
def item(item_id):
    return {"item_id": item_id, "q": request.args.get("q")}
"""

# What each adapter runs to become a handler, the app already imported.
HANDLERS = {
    "asgi_lambda": "from asgi_lambda import Adapter\nhandler = Adapter(app)",
    "apig-wsgi": "from apig_wsgi import make_lambda_handler\nhandler = make_lambda_handler(app)",
    "serverless-wsgi": (
        "import serverless_wsgi\n\ndef handler(event, context):\n    return serverless_wsgi.handle_request(app, event, context)"
    ),
    # What shipping a2wsgi would have cost: its WSGIMiddleware as the ASGI app behind our Adapter.
    "a2wsgi": "from a2wsgi import WSGIMiddleware\nfrom asgi_lambda import Adapter\nhandler = Adapter(WSGIMiddleware(app), lifespan='off')",
}


@dataclass(frozen=True)
class WSGITiming:
    label: str
    us: dict[str, float]  # per call, by adapter

    @property
    def ratio(self) -> float:
        return self.us["asgi_lambda"] / self.us["apig-wsgi"]

    @property
    def passed(self) -> bool:
        return self.ratio <= PER_CALL_TARGET


@dataclass(frozen=True)
class ColdStart:
    ms: dict[str, float]  # median, by adapter

    @property
    def ratio(self) -> float:
        return self.ms["asgi_lambda"] / self.ms["apig-wsgi"]

    @property
    def passed(self) -> bool:
        return self.ratio <= COLD_TARGET


def handlers() -> dict[str, Handler]:
    namespace: dict[str, Any] = {}
    exec(APP_SOURCE, namespace)  # noqa: S102  (the benchmark's own constant)
    made: dict[str, Handler] = {}
    for name, source in HANDLERS.items():
        scope = dict(namespace)
        exec(source, scope)  # noqa: S102
        made[name] = scope["handler"]
    return made


def events() -> list[tuple[str, dict[str, Any]]]:
    return [
        ("f. Flask GET /items/42?q=x, HTTP API v2", http_api_v2_event("/items/42", "q=x")),
        ("g. Flask GET /items/42?q=x, REST v1 (prod stage)", with_query(rest_v1_event("/items/42"))),
    ]


def with_query(event: dict[str, Any]) -> dict[str, Any]:
    event["queryStringParameters"] = {"q": "x"}
    event["multiValueQueryStringParameters"] = {"q": ["x"]}
    return event


def same_answers(made: dict[str, Handler], event: dict[str, Any]) -> None:
    bodies = {name: handler(event, None).get("body") for name, handler in made.items()}
    if len(set(bodies.values())) != 1 or '"item_id":42' not in str(bodies["asgi_lambda"]).replace(" ", ""):
        raise SystemExit(f"Sanity check failed for the Flask case: the adapters answered {bodies!r}")


def time_flask(calls: int, rounds: int, context: Any) -> list[WSGITiming]:
    made = handlers()
    timings = []
    for label, event in events():
        same_answers(made, event)
        for handler in made.values():
            mean_call_us(handler, event, context, max(calls // 10, 20))
        samples: dict[str, list[float]] = {name: [] for name in made}
        order = list(made)
        for round_number in range(rounds):
            for name in order if round_number % 2 == 0 else order[::-1]:
                samples[name].append(mean_call_us(made[name], event, context, calls))
        timings.append(WSGITiming(label, {name: statistics.median(values) for name, values in samples.items()}))
    return timings


COLD_CODE = """
import sys, time
{app}
start = time.perf_counter()
{handler}
handler(EVENT, None)
print((time.perf_counter() - start) * 1000)
"""


def cold_start(runs: int) -> ColdStart:
    """Fresh interpreters, taking turns: the ms from the app imported to the first answer. Bytecode
    is cached (a layer ships it, as pip's installs have it), in a throwaway PYTHONPYCACHEPREFIX
    filled by a first, unmeasured round."""
    event = repr(http_api_v2_event("/items/42", "q=x"))
    samples: dict[str, list[float]] = {name: [] for name in HANDLERS}
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as cache:
        env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        for round_number in range(runs + 1):
            for name, source in HANDLERS.items():
                code = COLD_CODE.format(app=APP_SOURCE, handler=source).replace("EVENT", event)
                gc.collect()
                done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
                if round_number:
                    samples[name].append(float(done.stdout.strip().splitlines()[-1]))
    return ColdStart({name: statistics.median(values) for name, values in samples.items()})


def print_flask(timings: list[WSGITiming], cold: ColdStart, table: Any, verdict: Any) -> None:
    rows = [
        [
            timing.label,
            f"{timing.us['asgi_lambda']:.2f}",
            f"{timing.us['apig-wsgi']:.2f}",
            f"{timing.us['serverless-wsgi']:.2f}",
            f"{timing.us['a2wsgi']:.2f}",
            f"{timing.ratio:.3f}",
            f"<= {PER_CALL_TARGET:g}",
            verdict(timing.passed),
        ]
        for timing in timings
    ]
    rows.append(
        [
            "cold start: adapter import, handler, first call (ms)",
            f"{cold.ms['asgi_lambda']:.2f}",
            f"{cold.ms['apig-wsgi']:.2f}",
            f"{cold.ms['serverless-wsgi']:.2f}",
            f"{cold.ms['a2wsgi']:.2f}",
            f"{cold.ratio:.3f}",
            f"<= {COLD_TARGET:g}",
            verdict(cold.passed),
        ]
    )
    print(table(["case", "ours µs/call", "apig-wsgi", "serverless-wsgi", "a2wsgi + ours", "ours/apig", "target", "result"], rows))


if __name__ == "__main__":  # python -m benchmarks.wsgi: this section alone
    import logging

    from .report import table, verdict

    logging.basicConfig(level=logging.WARNING)
    started = time.perf_counter()
    quick = "--quick" in sys.argv
    print_flask(time_flask(300 if quick else 3000, 3 if quick else 15, None), cold_start(2 if quick else 9), table, verdict)
    print(f"({time.perf_counter() - started:.0f} s)")
