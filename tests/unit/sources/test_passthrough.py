"""Non-HTTP events (SQS, SNS, EventBridge, S3, DynamoDB Streams, Kinesis) POSTed to the app
under events_path, the app's JSON answer being the invocation's result.

Events follow the Lambda developer guide's pages for each service (linked in each source's module).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI, Request

from asgi_lambda import EventNotHandled
from tests.support import adapter
from tests.support.apps import RecordingApp
from tests.support.events import load_event

KINDS = [
    ("sqs_batch", "sqs"),
    ("sns_notification", "sns"),
    ("eventbridge_custom", "eventbridge"),
    ("eventbridge_scheduled", "eventbridge"),
    ("s3_put", "s3"),
    ("dynamodb_stream", "dynamodb"),
    ("kinesis_stream", "kinesis"),
]


@pytest.mark.parametrize(("fixture", "kind"), KINDS)
def test_each_event_is_a_post_to_its_kind_with_the_event_as_json(fixture: str, kind: str) -> None:
    app = RecordingApp(headers=[(b"content-type", b"application/json")], body=b'{"ok":true}')
    event = load_event(fixture)
    context = object()

    result = adapter(app, events_path="/events")(event, context)

    body = app.bodies[-1]
    assert (app.scope["method"], app.scope["path"], app.scope["raw_path"], app.scope["root_path"], app.scope["query_string"]) == (
        "POST",
        f"/events/{kind}",
        f"/events/{kind}".encode(),
        "",
        b"",
    )
    assert app.scope["headers"] == [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    assert json.loads(body) == event
    assert (app.scope["aws.event"], app.scope["aws.context"]) == (event, context)
    assert result == {"ok": True}


def test_events_path_slash_puts_the_kind_at_the_root() -> None:
    app = RecordingApp()

    adapter(app, events_path="/")(load_event("sqs_batch"), None)

    assert app.scope["path"] == "/sqs"


@pytest.mark.parametrize(("body", "result"), [(b"", None), (b"[1, 2]", [1, 2]), (b"done", "done")])
def test_an_empty_answer_is_null_and_one_that_is_not_json_its_text(body: bytes, result: Any) -> None:
    app = RecordingApp(body=body)

    assert adapter(app, events_path="/events")(load_event("sns_notification"), None) == result


@pytest.mark.parametrize("status", [400, 404, 500, 503])
def test_a_status_outside_2xx_fails_the_invocation_so_the_event_is_retried(status: int) -> None:
    app = RecordingApp(status=status, body=b"queue is full")
    handler = adapter(app, events_path="/events")

    with pytest.raises(EventNotHandled) as error:
        handler(load_event("sqs_batch"), None)

    assert str(error.value) == (
        f"The app answered {status} to the Amazon SQS event (POST /events/sqs): 'queue is full'. "
        "The invocation fails, so that the event is retried."
    )
    app.status = 200
    assert handler(load_event("sqs_batch"), None) == "queue is full"


def test_a_fastapi_app_answers_sqs_with_a_partial_batch_response() -> None:
    app = FastAPI()

    @app.get("/")
    async def home() -> dict[str, str]:
        return {"hello": "world"}

    @app.post("/events/sqs")
    async def jobs(request: Request) -> dict[str, Any]:
        event = await request.json()
        failed = [record["messageId"] for record in event["Records"] if "fail" in record["body"]]
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}

    event = load_event("sqs_batch")
    event["Records"][1]["body"] = '{"job": "fail"}'
    handler = adapter(app, events_path="/events")

    assert handler(event, None) == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    # The same function serves its HTTP API.
    assert json.loads(handler(load_event("http_api_v2_get") | {"rawPath": "/"}, None)["body"]) == {"hello": "world"}


def test_a_fastapi_app_runs_its_schedule() -> None:
    app = FastAPI()
    runs: list[str] = []

    @app.post("/events/eventbridge")
    async def scheduled(request: Request) -> None:
        event = await request.json()
        runs.append(f"{event['source']} {event['detail-type']}")

    result = adapter(app, events_path="/events")(load_event("eventbridge_scheduled"), None)

    assert (runs, result) == (["aws.events Scheduled Event"], None)
