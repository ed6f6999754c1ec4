"""Sample events, as `asgi-lambda event KIND` prints them: one valid event of each kind the adapter
serves, shaped as AWS documents it (the same shapes as tests/events/), for `asgi-lambda invoke -`.

HTTP kinds take the request from --method, --path (with its query string), --header and --body;
non-HTTP kinds put --body where that service puts a message (SQS's body, SNS's Message,
EventBridge's detail as JSON, Kinesis's data) and --path where it puts a name (S3's object key).
WebSocket kinds are the events of one connection (SAMPLE_CONNECTION_ID), as the local gateway
makes them: `ws-connect` takes --header and the query string of --path (the path itself is
WS_PATH's), `ws-message` sends --body.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..sources.common import percent_decode
from .events import ACCOUNT_ID, REGION, Request, alb_event, http_api_event, iso_time, rest_event
from .gateway import ClientSocket

if TYPE_CHECKING:
    from ..types import Message

API_HOST = f"abcdefghij.execute-api.{REGION}.amazonaws.com"
SAMPLE_CONNECTION_ID = "L0SM9cOFvHcCIhw="  # the three WebSocket samples are one connection's events


class SampleRequest:
    """What the user asked for: --method, --path, --header NAME:VALUE, --body."""

    def __init__(self, *, method: str = "GET", path: str = "/", headers: list[tuple[str, str]] | None = None, body: str = "") -> None:
        self.method = method.upper()
        self.path, _, self.query_string = path.partition("?")
        self.headers = [(name.strip().lower(), value.strip()) for name, value in headers or ()]
        self.body = body

    def as_request(self, *, host: str) -> Request:
        scope = {
            "method": self.method,
            "path": percent_decode(self.path),
            "raw_path": self.path.encode(),
            "query_string": self.query_string.encode(),
            "client": ("203.0.113.10", 0),
            "headers": [(b"host", host.encode()), *((name.encode(), value.encode()) for name, value in self.headers)],
        }
        return Request(scope, self.body.encode(), port=443, scheme="https")  # as AWS's front ends are reached


def function_url(sample: SampleRequest) -> dict[str, Any]:
    return http_api_event(sample.as_request(host=f"abcdefghij.lambda-url.{REGION}.on.aws"))


def http_api(sample: SampleRequest) -> dict[str, Any]:
    return http_api_event(sample.as_request(host=API_HOST))


def rest(sample: SampleRequest) -> dict[str, Any]:
    return rest_event(sample.as_request(host=API_HOST))


def alb(sample: SampleRequest) -> dict[str, Any]:
    return alb_event(sample.as_request(host="asgi-123456789.us-east-1.elb.amazonaws.com"))


def vpc_lattice(sample: SampleRequest) -> dict[str, Any]:
    arn = f"arn:aws:vpc-lattice:{REGION}:{ACCOUNT_ID}"
    headers: dict[str, list[str]] = {"host": ["svc-0123456789abcdef0.7d67968.vpc-lattice-svcs.us-east-1.on.aws"]}
    for name, value in [*sample.headers, ("x-forwarded-for", "10.0.0.10")]:
        headers.setdefault(name, []).append(value)
    params: dict[str, list[str]] = {}
    for pair in filter(None, sample.query_string.split("&")):
        key, _, value = pair.partition("=")
        params.setdefault(key, []).append(value)
    return {
        "version": "2.0",
        "path": sample.path,
        "method": sample.method,
        "headers": headers,
        "queryStringParameters": params,
        "body": sample.body,
        "isBase64Encoded": False,
        "requestContext": {
            "serviceNetworkArn": f"{arn}:servicenetwork/sn-0123456789abcdef0",
            "serviceArn": f"{arn}:service/svc-0123456789abcdef0",
            "targetGroupArn": f"{arn}:targetgroup/tg-0123456789abcdef0",
            "identity": {"sourceVpcArn": f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:vpc/vpc-0123456789abcdef0"},
            "region": REGION,
            "timeEpoch": str(int(time.time() * 1_000_000)),
        },
    }


def lambda_edge(sample: SampleRequest) -> dict[str, Any]:
    headers: dict[str, list[dict[str, str]]] = {"host": [{"key": "Host", "value": "d111111abcdef8.cloudfront.net"}]}
    for name, value in sample.headers:
        headers.setdefault(name, []).append({"key": "-".join(part.capitalize() for part in name.split("-")), "value": value})
    request: dict[str, Any] = {
        "clientIp": "203.0.113.10",
        "headers": headers,
        "method": sample.method,
        "querystring": sample.query_string,
        "uri": sample.path,
    }
    if sample.body:
        data = base64.b64encode(sample.body.encode()).decode()
        request["body"] = {"inputTruncated": False, "action": "read-only", "encoding": "base64", "data": data}
    config = {"distributionDomainName": "d111111abcdef8.cloudfront.net", "distributionId": "EDFDVBD6EXAMPLE"}
    return {"Records": [{"cf": {"config": {**config, "eventType": "origin-request", "requestId": uuid.uuid4().hex}, "request": request}}]}


def ws_connect(sample: SampleRequest) -> dict[str, Any]:
    handshake = [("sec-websocket-key", base64.b64encode(uuid.uuid4().bytes).decode()), ("sec-websocket-version", "13")]
    given = {name for name, _ in sample.headers}
    sample = SampleRequest(
        method="GET",
        path=f"{sample.path}?{sample.query_string}" if sample.query_string else sample.path,
        headers=[*(header for header in handshake if header[0] not in given), *sample.headers],
    )
    return websocket_client(sample).connect_event()


def ws_message(sample: SampleRequest) -> dict[str, Any]:
    return websocket_client(sample).message_event(sample.body or "hello")


def ws_disconnect(sample: SampleRequest) -> dict[str, Any]:
    return websocket_client(sample).disconnect_event(1001, "Going away")


def websocket_client(sample: SampleRequest) -> ClientSocket:
    """The gateway's view of a client connected with this request, which makes its events."""

    async def unused(message: Message) -> None:  # a sample sends nothing to the client
        pass

    client = ClientSocket(unused, sample.as_request(host=API_HOST))
    client.connection_id = SAMPLE_CONNECTION_ID
    return client


def sqs(sample: SampleRequest) -> dict[str, Any]:
    body = sample.body or '{"hello": "world"}'
    now = str(int(time.time() * 1000))
    record = {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": base64.b64encode(uuid.uuid4().bytes * 4).decode(),
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": now,
            "SenderId": ACCOUNT_ID,
            "ApproximateFirstReceiveTimestamp": now,
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:jobs",
        "awsRegion": REGION,
    }
    return {"Records": [record]}


def sns(sample: SampleRequest) -> dict[str, Any]:
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:notices"
    message = {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": topic,
        "Subject": "sample",
        "Message": sample.body or "hello",
        "Timestamp": iso_time(time.time()),
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertUrl": f"https://sns.{REGION}.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
        "UnsubscribeUrl": f"https://sns.{REGION}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic}:{uuid.uuid4()}",
        "MessageAttributes": {},
    }
    return {
        "Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": f"{topic}:{uuid.uuid4()}", "Sns": message}]
    }


def eventbridge(sample: SampleRequest) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Sample Event",
        "source": "com.example.app",
        "account": ACCOUNT_ID,
        "time": iso_time(time.time()),
        "region": REGION,
        "resources": [],
        "detail": json.loads(sample.body) if sample.body else {"hello": "world"},
    }


def schedule(sample: SampleRequest) -> dict[str, Any]:
    rule = f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/every-five-minutes"
    return {**eventbridge(sample), "detail-type": "Scheduled Event", "source": "aws.events", "resources": [rule], "detail": {}}


def s3(sample: SampleRequest) -> dict[str, Any]:
    key = sample.path.lstrip("/") if sample.path != "/" else "uploads/report.pdf"
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": REGION,
        "eventTime": iso_time(time.time()),
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:EXAMPLE"},
        "requestParameters": {"sourceIPAddress": "203.0.113.10"},
        "responseElements": {"x-amz-request-id": uuid.uuid4().hex[:16].upper(), "x-amz-id-2": "EXAMPLE"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "sample",
            "bucket": {"name": "uploads", "ownerIdentity": {"principalId": "EXAMPLE"}, "arn": "arn:aws:s3:::uploads"},
            # S3 sends keys URL-encoded, form style.
            "object": {
                "key": key.replace(" ", "+"),
                "size": len(sample.body),
                "eTag": hashlib.md5(sample.body.encode()).hexdigest(),
                "sequencer": "0A1B2C3D4E5F678901",
            },
        },
    }
    return {"Records": [record]}


def dynamodb(sample: SampleRequest) -> dict[str, Any]:
    image = {"id": {"S": str(uuid.uuid4())}, "note": {"S": sample.body or "hello"}}
    record = {
        "eventID": uuid.uuid4().hex,
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": {
            "ApproximateCreationDateTime": int(time.time()),
            "Keys": {"id": image["id"]},
            "NewImage": image,
            "SequenceNumber": "111100000000000000000001",
            "SizeBytes": 64,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/notes/stream/2026-01-01T00:00:00.000",
    }
    return {"Records": [record]}


def kinesis(sample: SampleRequest) -> dict[str, Any]:
    sequence = "49590338271490256608559692538361571095921575989136588898"
    record = {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "1",
            "sequenceNumber": sequence,
            "data": base64.b64encode((sample.body or "hello").encode()).decode(),
            "approximateArrivalTimestamp": time.time(),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000000:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT_ID}:role/lambda-role",
        "awsRegion": REGION,
        "eventSourceARN": f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/clicks",
    }
    return {"Records": [record]}


KINDS: dict[str, Callable[[SampleRequest], dict[str, Any]]] = {
    "http-v2": http_api,
    "function-url": function_url,
    "rest": rest,
    "alb": alb,
    "vpc-lattice": vpc_lattice,
    "lambda-edge": lambda_edge,
    "sqs": sqs,
    "sns": sns,
    "eventbridge": eventbridge,
    "schedule": schedule,
    "s3": s3,
    "dynamodb": dynamodb,
    "kinesis": kinesis,
    "ws-connect": ws_connect,
    "ws-message": ws_message,
    "ws-disconnect": ws_disconnect,
}
