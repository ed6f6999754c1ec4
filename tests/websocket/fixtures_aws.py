"""DynamoDB and S3 stores against moto in server mode on 127.0.0.1. (Placeholder until they land.)"""

from __future__ import annotations

import pytest


@pytest.fixture
def store_dynamodb() -> None:
    pytest.skip("the dynamodb store is not built yet")


@pytest.fixture
def unreachable_dynamodb() -> None:
    pytest.skip("the dynamodb store is not built yet")


@pytest.fixture
def store_s3() -> None:
    pytest.skip("the s3 store is not built yet")


@pytest.fixture
def unreachable_s3() -> None:
    pytest.skip("the s3 store is not built yet")
