"""What the release tests check on every CloudFormation template they read (template.yaml, the
templates examples/serverless and examples/cdk generate, the documentation's snippets): cfn-lint,
and a function's IAM statements as the exact rows they grant."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# The WebSocket store's tables, as template.yaml and examples/serverless both name them.
TABLE_ARN = {"Fn::GetAtt": ["ConnectionsTable", "Arn"]}
ROOMS_TABLE_ARN = {"Fn::GetAtt": ["RoomsTable", "Arn"]}


def cfn_lint(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """cfn-lint run on `args`: `python -m cfnlint` is not supported by cfn-lint, so its console
    script, which sits next to the interpreter."""
    command = [str(Path(sys.executable).with_name("cfn-lint")), *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


def as_list(value: Any) -> list[Any]:
    """An IAM Action or Resource, which is one value or a list of them, as a list."""
    return value if isinstance(value, list) else [value]


def grants(statements: Iterable[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """The (effect, action, resource) rows the statements grant, sorted; each resource as its repr,
    so that CloudFormation's intrinsic functions sort and compare."""
    return sorted(
        (statement["Effect"], action, repr(resource))
        for statement in statements
        for action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    )


def store_grants(manage_connections_arns: Iterable[Any]) -> list[tuple[str, str, str]]:
    """What the DynamoDB store and WebSocket replies need, nothing more: the connections and rooms
    tables' calls, and ManageConnections on each of `manage_connections_arns`."""
    return [
        ("Allow", "dynamodb:GetItem", repr(TABLE_ARN)),
        ("Allow", "dynamodb:PutItem", repr(TABLE_ARN)),
        ("Allow", "dynamodb:UpdateItem", repr(TABLE_ARN)),
        ("Allow", "dynamodb:DeleteItem", repr(TABLE_ARN)),
        ("Allow", "dynamodb:Scan", repr(TABLE_ARN)),
        ("Allow", "dynamodb:PutItem", repr(ROOMS_TABLE_ARN)),
        ("Allow", "dynamodb:DeleteItem", repr(ROOMS_TABLE_ARN)),
        ("Allow", "dynamodb:Query", repr(ROOMS_TABLE_ARN)),
        *(("Allow", "execute-api:ManageConnections", repr(arn)) for arn in manage_connections_arns),
    ]
