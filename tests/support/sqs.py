"""SQS on the moto server: a queue for the fan-out, what was sent to it, and its messages as the
Lambda event an event source mapping would deliver.

https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html (the event's shape)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from .aws import REGION, aws_client, fake_aws_environment, moto_url, unique


class Queue:
    """A standard queue on the moto server, and boto3 (the layer's client included) pointed at it
    through AWS_ENDPOINT_URL_SQS."""

    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url
        self.client = aws_client("sqs", endpoint_url)
        self.name = unique("fanout")
        self.url: str = self.client.create_queue(QueueName=self.name)["QueueUrl"]
        self.arn = f"arn:aws:sqs:{REGION}:123456789012:{self.name}"

    def receive_all(self) -> list[dict[str, Any]]:
        """Every message now in the queue (received, so hidden for the visibility timeout), with its attributes."""
        messages: list[dict[str, Any]] = []
        while True:
            batch = self.client.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], AttributeNames=["All"], VisibilityTimeout=300
            ).get("Messages", [])
            if not batch:
                return messages
            messages.extend(batch)

    def delete(self) -> None:
        self.client.delete_queue(QueueUrl=self.url)

    def event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The messages as one Lambda SQS event, as an event source mapping delivers a batch."""
        return {"Records": [self.record(message) for message in messages]}

    def record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value["DataType"],
                }
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": hashlib.md5(message["Body"].encode()).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.arn,
            "awsRegion": REGION,
        }


@pytest.fixture
def fanout_queue(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Queue]:
    fake_aws_environment(monkeypatch, tmp_path_factory)
    endpoint_url = moto_url(request)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", endpoint_url)
    queue = Queue(endpoint_url)
    yield queue
    queue.delete()
