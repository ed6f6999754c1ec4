"""The boundary of every event: a known event that breaks its source's documented format is
refused with MalformedEvent naming the field, what was expected and what came; nothing else
escapes, and the next event is served as usual."""

from __future__ import annotations

from typing import Any

import pytest

from asgi_lambda import UnknownEventError
from asgi_lambda.exceptions import AsgiLambdaError, MalformedEvent
from asgi_lambda.sources.apigw_http import HttpApiEvent
from asgi_lambda.sources.apigw_rest import RestApiEvent
from asgi_lambda.sources.fields import Fields, Nullable
from tests.support import adapter
from tests.support.apps import RecordingApp
from tests.support.events import load_event

V2 = "API Gateway HTTP API (payload 2.0) and Lambda Function URL event"
REST = "API Gateway REST API (payload 1.0) event"


def refused(event: dict[str, Any]) -> str:
    handler = adapter(RecordingApp())
    with pytest.raises(MalformedEvent) as error:
        handler(event, None)
    # After any refusal the next event is served.
    assert handler(load_event("http_api_v2_get"), None)["statusCode"] == 200
    return str(error.value)


@pytest.mark.parametrize(
    ("fixture", "change", "message"),
    [
        ("http_api_v2_get", {"cookies": ["a=1", "b=2", 5]}, f"{V2}: cookies[2] is a number (5); expected a string."),
        ("http_api_v2_get", {"cookies": "a=1"}, f"{V2}: cookies is a string ('a=1'); expected a list of strings or null."),
        ("http_api_v2_get", {"isBase64Encoded": "false"}, f"{V2}: isBase64Encoded is a string ('false'); expected true or false or null."),
        (
            "http_api_v2_get",
            {"headers": {"accept": ["text/html"]}},
            f"{V2}: headers['accept'] is a list (['text/html']); expected a string.",
        ),
        (
            "http_api_v2_get",
            {"body": "caf\udce9"},
            f"{V2}: body is a string that is not valid Unicode (a lone surrogate); expected a string or null.",
        ),
        (
            "apigw_rest_get",
            {"multiValueHeaders": {"accept": [7]}},
            f"{REST}: multiValueHeaders['accept'][0] is a number (7); expected a string.",
        ),
        (
            "apigw_rest_get",
            {"multiValueHeaders": {"accept": "text/html"}},
            f"{REST}: multiValueHeaders['accept'] is a string ('text/html'); expected a list of strings.",
        ),
        (
            "apigw_rest_get",
            {"multiValueQueryStringParameters": {"tag": "a"}},
            f"{REST}: multiValueQueryStringParameters['tag'] is a string ('a'); expected a list of strings.",
        ),
        ("apigw_rest_get", {"httpMethod": None}, f"{REST}: httpMethod is null; expected a string."),
        ("apigw_rest_get", {"path": {"a": 1}}, f"{REST}: path is an object ({{'a': 1}}); expected a string."),
    ],
    ids=[
        "list-item",
        "string-for-list",
        "string-for-bool",
        "list-for-string",
        "lone-surrogate",
        "multi-value-item",
        "multi-value-string",
        "multi-value-query-string",
        "null-method",
        "object-path",
    ],
)
def test_a_field_of_the_wrong_type_is_named(fixture: str, change: dict[str, Any], message: str) -> None:
    event = load_event(fixture)
    event.update(change)

    assert refused(event) == message


MISSING = object()
# A value of each JSON type, falsy ones included.
VALUES = [MISSING, None, 0, 7, 1.5, True, False, "", "x", [], ["x"], {}, {"k": "v"}]

# The fields the HTTP API and REST mappings check as they read them, where the reading itself would
# take a value of another type: refused in any other type, falsy ones and null included. The other
# fields fail as they are read, if they are: a falsy value is read as absent, and one of two
# alternatives goes unread (`rawPath or requestContext.http.path`).
CHECKED = {
    HttpApiEvent: {"cookies", "isBase64Encoded", "requestContext.domainName", "requestContext.stage", "requestContext.http.sourceIp"},
    RestApiEvent: {
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "isBase64Encoded",
        "requestContext.stage",
        "requestContext.domainName",
        "requestContext.identity",
        "requestContext.identity.sourceIp",
    },
}


def declared(fields: Fields, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The path of every field `fields` declares, nested objects' fields included."""
    found = []
    for name, spec in fields.fields.items():
        found.append((*prefix, name))
        inner = spec.inner if isinstance(spec, Nullable) else spec
        if isinstance(inner, Fields):
            found += declared(inner, (*prefix, name))
    return found


@pytest.mark.parametrize(
    ("fixture", "source"),
    [
        ("http_api_v2_get", HttpApiEvent),
        ("function_url_get", HttpApiEvent),
        ("apigw_rest_get", RestApiEvent),
        ("http_api_v1_get", RestApiEvent),
    ],
)
def test_every_declared_field_of_another_type_is_refused_by_the_mapping(fixture: str, source: Any) -> None:
    handler = adapter(RecordingApp())
    for path in declared(source.fields):
        for value in VALUES:
            event = load_event(fixture)
            parent = event
            for key in path[:-1]:
                parent = parent.setdefault(key, {})
            if value is MISSING:
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = value
            if not source.matches(event):
                continue  # not this source's event (requestContext not an object, version not "1.0")
            fault = source.fields.problem(event, "")
            where = f"{'.'.join(path)} = {value!r}"
            try:
                response = handler(event, None)
            except MalformedEvent as error:
                assert fault is not None and str(error) == f"{source.name} event: {fault}.", where
                continue
            own_fault = fault is not None and fault.path == ".".join(path)
            assert not own_fault or ".".join(path) not in CHECKED[source], f"{where} was answered: {fault}"
            assert response["statusCode"] == 200, where


def test_a_nested_field_is_named_by_its_whole_path() -> None:
    event = load_event("http_api_v2_get")
    event["requestContext"]["http"]["sourceIp"] = ["203.0.113.1"]

    assert refused(event) == f"{V2}: requestContext.http.sourceIp is a list (['203.0.113.1']); expected a string or null."


@pytest.mark.parametrize("field", ["queryStringParameters", "multiValueQueryStringParameters", "multiValueHeaders", "headers", "body"])
def test_null_is_accepted_where_aws_sends_null(field: str, app: RecordingApp) -> None:
    event = load_event("apigw_rest_get")
    event[field] = None

    assert adapter(app)(event, None)["statusCode"] == 200


def test_malformed_event_is_an_unknown_event_error_and_the_packages_base_exception() -> None:
    assert issubclass(MalformedEvent, UnknownEventError) and issubclass(MalformedEvent, AsgiLambdaError)


@pytest.mark.parametrize(
    ("event", "arn"),
    [
        (
            {
                "type": "REQUEST",
                "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/items",
                "httpMethod": "GET",
                "path": "/items",
                "headers": {},
                "requestContext": {"stage": "prod"},
            },
            "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/items",
        ),
        (
            {
                "version": "2.0",
                "type": "REQUEST",
                "routeArn": "arn:aws:execute-api:us-east-1:123456789012:abc/$default/GET/items",
                "rawPath": "/items",
                "requestContext": {"http": {"method": "GET", "path": "/items"}},
            },
            "arn:aws:execute-api:us-east-1:123456789012:abc/$default/GET/items",
        ),
        (
            {"type": "TOKEN", "authorizationToken": "allow", "methodArn": "arn:aws:execute-api:us-east-1:1:abc/prod/GET/"},
            "arn:aws:execute-api:us-east-1:1:abc/prod/GET/",
        ),
    ],
    ids=["rest-request", "http-api-request", "token"],
)
def test_authorizer_events_are_refused_not_answered_as_requests(event: dict[str, Any], arn: str, app: RecordingApp) -> None:
    with pytest.raises(UnknownEventError) as error:
        adapter(app)(event, None)

    assert str(error.value) == (
        f"This is an API Gateway Lambda authorizer event (type {event['type']!r}, {arn!r}): asgi_lambda serves proxy "
        "integrations, not authorizers. Give the authorizer a function of its own, which returns a policy or {'isAuthorized': ...}."
    )
    assert app.scopes == []


def test_a_websocket_connect_authorizer_event_is_refused_as_an_authorizer_not_taken_for_a_connect(app: RecordingApp) -> None:
    # A WebSocket API's REQUEST authorizer gets the $connect event (eventType CONNECT, connectionId) with a methodArn.
    with pytest.raises(UnknownEventError) as error:
        adapter(app)(load_event("authorizer_ws_connect_request"), None)

    assert str(error.value) == (
        "This is an API Gateway Lambda authorizer event (type 'REQUEST', "
        "'arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/$connect'): asgi_lambda serves proxy "
        "integrations, not authorizers. Give the authorizer a function of its own, which returns a policy or {'isAuthorized': ...}."
    )
    assert app.scopes == []


def test_mixed_case_header_names_from_sam_local_give_the_right_scheme_and_server(app: RecordingApp) -> None:
    event = load_event("http_api_v2_get")
    event["headers"] = {"Host": "127.0.0.1:3000", "X-Forwarded-Proto": "http", "X-Forwarded-Port": "3000", "User-Agent": "curl/8.5.0"}

    adapter(app)(event, None)

    assert (app.scope["scheme"], app.scope["server"]) == ("http", ("127.0.0.1", 3000))
    assert (b"host", b"127.0.0.1:3000") in app.scope["headers"]
