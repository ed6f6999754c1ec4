"""examples/cdk: the AWS CDK CLI synthesizes it offline, cfn-lint is clean on the template, and that
template's facts are exactly as intended: the layer, a function with no handler code, an HTTP API,
a WebSocket API and its DynamoDB tables (connections, room memberships), and least-privilege grants.

The CLI (npm's aws-cdk, pinned in tests/release/cdk/) runs the app with this interpreter, which has
aws-cdk-lib (requirements-release.txt), in an offline environment (tests/support/npm.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.cloudformation import cfn_lint
from tests.support.npm import ensure_npm_tool, offline_env
from tests.support.paths import RELEASE, ROOT

EXAMPLE = ROOT / "examples" / "cdk"
STACK = "AsgiLambdaHello"
PUBLISHED_LAYER = "arn:aws:lambda:us-east-1:111122223333:layer:asgi-lambda:7"


@dataclass
class Synthesized:
    output: Path
    template: dict[str, Any]

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {logical_id: res["Properties"] for logical_id, res in self.template["Resources"].items() if res["Type"] == resource_type}

    def one(self, resource_type: str) -> tuple[str, dict[str, Any]]:
        (found,) = self.resources(resource_type).items()
        return found

    def logical_id(self, resource_type: str) -> str:
        (found,) = self.resources(resource_type)
        return found

    def table(self, partition_key: str) -> tuple[str, dict[str, Any]]:
        """The DynamoDB table whose partition key is `partition_key`: connection_id or room."""
        (found,) = (
            (logical_id, table)
            for logical_id, table in self.resources("AWS::DynamoDB::Table").items()
            if table["KeySchema"][0]["AttributeName"] == partition_key
        )
        return found


def synth(workdir: Path, *context: str) -> subprocess.CompletedProcess[str]:
    cdk = ensure_npm_tool("aws-cdk", locked=RELEASE / "cdk", command="cdk", why="examples/cdk is synthesized with the AWS CDK CLI")
    (workdir / "home").mkdir()
    env = {**offline_env(workdir / "home"), "CDK_DISABLE_VERSION_CHECK": "true", "CDK_DISABLE_CLI_TELEMETRY": "true"}
    args = [str(cdk), "synth", "--app", f"{sys.executable} app.py", "--output", str(workdir / "cdk.out"), "--no-notices", "--quiet"]
    for value in context:
        args += ["-c", value]
    return subprocess.run(args, cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=300)


def synthesized(workdir: Path, *context: str) -> Synthesized:
    result = synth(workdir, *context)
    assert result.returncode == 0, f"cdk synth failed:\n{result.stdout}\n{result.stderr}"
    output = workdir / "cdk.out"
    return Synthesized(output, json.loads((output / f"{STACK}.template.json").read_text()))


@pytest.fixture(scope="module")
def stack(layer_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesized(tmp_path_factory.mktemp("cdk"), f"layerZip={layer_zip}")


def test_cfn_lint_reports_nothing_on_the_synthesized_template(stack: Synthesized) -> None:
    # W3005 (a DependsOn already implied by a GetAtt): the CDK itself makes the function depend on its role.
    result = cfn_lint("--ignore-checks", "W3005", "--", f"{STACK}.template.json", cwd=stack.output)
    assert (result.returncode, result.stdout) == (0, ""), result.stderr


def test_the_layer_is_the_built_zip_for_python_3_12_to_3_14_on_both_architectures(stack: Synthesized, layer_zip: Path) -> None:
    logical_id, layer = stack.one("AWS::Lambda::LayerVersion")
    assert (layer["CompatibleRuntimes"], layer["CompatibleArchitectures"]) == (
        ["python3.12", "python3.13", "python3.14"],
        ["x86_64", "arm64"],
    )
    asset = stack.template["Resources"][logical_id]["Metadata"]["aws:asset:path"]
    assert (stack.output / asset).read_bytes() == layer_zip.read_bytes()


def test_the_function_runs_the_hello_example_through_the_wrapper_with_its_store_in_dynamodb(stack: Synthesized) -> None:
    _, function = stack.one("AWS::Lambda::Function")
    assert (function["Runtime"], function["Architectures"], function["Handler"]) == ("python3.13", ["arm64"], "main.app")
    assert function["Layers"] == [{"Ref": stack.logical_id("AWS::Lambda::LayerVersion")}]
    assert function["Environment"]["Variables"] == {
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/asgi-bootstrap",
        "ASGI_APP": "main:app",
        "WS_BACKEND": "dynamodb",
        "WS_DYNAMODB_TABLE": {"Ref": stack.table("connection_id")[0]},
        "WS_DYNAMODB_ROOMS_TABLE": {"Ref": stack.table("room")[0]},
        "WS_PATH": "/ws",
    }


def test_the_connections_table_has_the_key_and_ttl_the_dynamodb_store_uses(stack: Synthesized) -> None:
    _, table = stack.table("connection_id")
    assert table["KeySchema"] == [{"AttributeName": "connection_id", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_the_rooms_table_is_keyed_by_room_then_connection_with_the_same_ttl(stack: Synthesized) -> None:
    _, table = stack.table("room")
    assert table["KeySchema"] == [{"AttributeName": "room", "KeyType": "HASH"}, {"AttributeName": "connection_id", "KeyType": "RANGE"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert len(stack.resources("AWS::DynamoDB::Table")) == 2


def test_the_http_api_sends_every_request_to_the_function(stack: Synthesized) -> None:
    apis = stack.resources("AWS::ApiGatewayV2::Api")
    assert sorted(api["ProtocolType"] for api in apis.values()) == ["HTTP", "WEBSOCKET"]
    routes = sorted(route["RouteKey"] for route in stack.resources("AWS::ApiGatewayV2::Route").values())
    assert routes == ["$connect", "$default", "$default", "$disconnect"]
    function_arn = {"Fn::GetAtt": [stack.logical_id("AWS::Lambda::Function"), "Arn"]}
    for integration in stack.resources("AWS::ApiGatewayV2::Integration").values():
        uri = integration["IntegrationUri"]  # the HTTP API's is the ARN; the WebSocket API's an invocation URI holding it
        assert integration["IntegrationType"] == "AWS_PROXY"
        assert uri == function_arn or function_arn in uri["Fn::Join"][1]


def test_the_function_may_touch_only_its_tables_and_its_websocket_connections(stack: Synthesized) -> None:
    _, policy = stack.one("AWS::IAM::Policy")
    statements = policy["PolicyDocument"]["Statement"]
    assert statements[0] == {
        "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Scan"],
        "Effect": "Allow",
        "Resource": [{"Fn::GetAtt": [stack.table("connection_id")[0], "Arn"]}],
    }
    assert statements[1] == {
        "Action": ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"],
        "Effect": "Allow",
        "Resource": [{"Fn::GetAtt": [stack.table("room")[0], "Arn"]}],
    }
    manage = statements[2]
    assert (manage["Action"], manage["Effect"]) == ("execute-api:ManageConnections", "Allow")
    websocket_api = next(
        logical_id for logical_id, api in stack.resources("AWS::ApiGatewayV2::Api").items() if api["ProtocolType"] == "WEBSOCKET"
    )
    # POST (replies) and DELETE (closes) on the prod stage only.
    assert [resource["Fn::Join"][1][-2:] for resource in manage["Resource"]] == [
        [{"Ref": websocket_api}, "/prod/POST/@connections/*"],
        [{"Ref": websocket_api}, "/prod/DELETE/@connections/*"],
    ]
    assert len(statements) == 3


def test_a_published_layer_is_attached_by_arn(tmp_path: Path) -> None:
    stack = synthesized(tmp_path, f"layerArn={PUBLISHED_LAYER}")
    assert stack.resources("AWS::Lambda::LayerVersion") == {}
    _, function = stack.one("AWS::Lambda::Function")
    assert function["Layers"] == [PUBLISHED_LAYER]


def test_a_missing_layer_zip_says_how_to_build_it(tmp_path: Path) -> None:
    missing = tmp_path / "no-such.zip"
    result = synth(tmp_path, f"layerZip={missing}")
    assert result.returncode != 0
    assert f"{missing} is missing: run ./build_layer.sh from the repository root, or pass -c layerArn=ARN." in result.stderr
