"""examples/serverless: both osls lines package it offline, the 3.x line (the Serverless Framework
v3 fork) and the 4.x line that `npx osls` installs today; cfn-lint is clean on the CloudFormation
template each generates, and that template's security-relevant facts are exactly as intended.

Each osls is installed once, with `npm ci` from its lockfile (tests/release/osls/ pins 3.77.1, tests/release/osls4/
4.3.1), into .cache/ (tests/support/npm.py). Packaging runs in a copy of the example with fake AWS
credentials, an empty HOME (so no ~/.aws profile is read) and HTTP(S)_PROXY pointing at a closed
local port, so a request to AWS would fail rather than leave the machine: `osls package` makes
none, and neither line asks for a login. Without node and npm the module is skipped, or fails when
CI is set.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.cloudformation import cfn_lint, grants, store_grants
from tests.support.npm import ensure_npm_tool, offline_env
from tests.support.paths import RELEASE, ROOT

EXAMPLE = ROOT / "examples" / "serverless"
HELLO_APP = ROOT / "examples" / "hello" / "main.py"

# Each osls line and the lockfile that pins it with its dependencies: the newest 3.x (the
# Serverless Framework v3 fork), and 4.x, what `npx osls` fetches today.
LOCKED = {"3.x": RELEASE / "osls", "4.x": RELEASE / "osls4"}

DEFAULT_LAYER_ARN = "arn:aws:lambda:us-east-1:123456789012:layer:asgi-lambda:1"
OTHER_LAYER_ARN = "arn:aws:lambda:us-east-1:111122223333:layer:asgi-lambda:7"

GENERATED = Path(".serverless") / "cloudformation-template-update-stack.json"
ARTIFACT = Path(".serverless") / "asgi-lambda-hello.zip"

# What the function may touch, in the long form the generated template holds.
LOG_GROUP_ARN = {"Fn::GetAtt": ["HelloLogGroup", "Arn"]}
WEBSOCKET_API_ARN = {"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebsocketsApi}/*"}
# ManageConnections: POST (replies) and DELETE (closes) on the service's stage (dev by default), nothing else.
MANAGE_CONNECTIONS_ARNS = [
    {"Fn::Sub": f"arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{WebsocketsApi}}/dev/{method}/@connections/*"}
    for method in ("POST", "DELETE")
]


@dataclass
class Packaged:
    directory: Path
    template: dict[str, Any]

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {logical_id: res for logical_id, res in self.template["Resources"].items() if res["Type"] == resource_type}

    def properties(self, logical_id: str) -> dict[str, Any]:
        props = self.template["Resources"][logical_id]["Properties"]
        assert isinstance(props, dict)
        return props

    def function(self) -> dict[str, Any]:
        assert list(self.resources("AWS::Lambda::Function")) == ["HelloLambdaFunction"]
        return self.properties("HelloLambdaFunction")

    def role(self) -> dict[str, Any]:
        return self.properties("HelloRole")

    def statements(self) -> list[dict[str, Any]]:
        return [st for policy in self.role()["Policies"] for st in policy["PolicyDocument"]["Statement"]]


def _package(osls: Path, workdir: Path, *args: str) -> Packaged:
    service = workdir / "serverless"
    ignore = shutil.ignore_patterns(".serverless", "node_modules", "__pycache__")
    shutil.copytree(EXAMPLE, service, ignore=ignore)
    (workdir / "home").mkdir()
    result = subprocess.run(
        [str(osls), "package", *args],
        cwd=service,
        env={**offline_env(workdir / "home"), "SLS_TELEMETRY_DISABLED": "1", "SLS_NOTIFICATIONS_MODE": "off"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"osls package failed:\n{result.stdout}\n{result.stderr}"
    return Packaged(service, json.loads((service / GENERATED).read_text()))


@pytest.fixture(scope="module", params=sorted(LOCKED))
def osls(request: pytest.FixtureRequest) -> Path:
    """The osls command of one line; every test runs on both."""
    return ensure_npm_tool("osls", locked=LOCKED[request.param], command="osls", why="examples/serverless is packaged with osls")


@pytest.fixture(scope="module")
def packaged(osls: Path, tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    """`osls package` in a copy of examples/serverless, with no flags and no --param."""
    return _package(osls, tmp_path_factory.mktemp("serverless-default"))


def test_the_tests_package_with_osls_3_and_with_osls_4() -> None:
    pinned = {line: json.loads((locked / "package.json").read_text())["dependencies"]["osls"] for line, locked in LOCKED.items()}
    assert pinned == {"3.x": "3.77.1", "4.x": "4.3.1"}


def test_the_example_accepts_both_osls_lines() -> None:
    assert 'frameworkVersion: "3 || 4"' in (EXAMPLE / "serverless.yml").read_text().splitlines()


def test_cfn_lint_reports_nothing_on_the_generated_template(packaged: Packaged) -> None:
    result = cfn_lint(str(GENERATED), cwd=packaged.directory)
    assert (result.returncode, result.stdout) == (0, ""), result.stderr


def test_cfn_lint_is_silenced_only_for_w3005_on_serverless_generated_resources(packaged: Packaged) -> None:
    silenced = {
        logical_id: res["Metadata"]["cfn-lint"]
        for logical_id, res in packaged.template["Resources"].items()
        if "cfn-lint" in res.get("Metadata", {})
    }
    ignore_w3005 = {"config": {"ignore_checks": ["W3005"]}}
    assert silenced == {"HelloLambdaPermissionWebsockets": ignore_w3005, "HttpApiRouteDefault": ignore_w3005}


def test_package_ships_only_main_py(packaged: Packaged) -> None:
    with zipfile.ZipFile(packaged.directory / ARTIFACT) as artifact:
        assert artifact.namelist() == ["main.py"]


def test_packaged_main_py_is_the_hello_example(packaged: Packaged) -> None:
    # examples/serverless/main.py is a copy (osls packages only the service's folder): keep it identical.
    with zipfile.ZipFile(packaged.directory / ARTIFACT) as artifact:
        assert artifact.read("main.py") == HELLO_APP.read_bytes()


def test_function_handler_names_the_app_for_the_wrapper_to_replace(packaged: Packaged) -> None:
    assert packaged.function()["Handler"] == "main.app"


def test_function_runs_python_3_13_on_arm64(packaged: Packaged) -> None:
    function = packaged.function()
    assert (function["Runtime"], function["Architectures"]) == ("python3.13", ["arm64"])


def test_function_environment_is_exactly_the_wrapper_and_the_dynamodb_store(packaged: Packaged) -> None:
    assert packaged.function()["Environment"]["Variables"] == {
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/asgi-bootstrap",
        "ASGI_APP": "main:app",
        "WS_BACKEND": "dynamodb",
        "WS_DYNAMODB_TABLE": {"Ref": "ConnectionsTable"},
        "WS_DYNAMODB_ROOMS_TABLE": {"Ref": "RoomsTable"},
    }


def test_function_uses_the_default_layer_arn_parameter(packaged: Packaged) -> None:
    assert packaged.function()["Layers"] == [DEFAULT_LAYER_ARN]


def test_param_option_replaces_the_layer_arn(osls: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    other = _package(osls, tmp_path_factory.mktemp("serverless-param"), f"--param=layerArn={OTHER_LAYER_ARN}")
    assert other.function()["Layers"] == [OTHER_LAYER_ARN]


def test_function_role_is_the_templates_own_and_the_only_iam_resource(packaged: Packaged) -> None:
    # Serverless's generated role (IamRoleLambdaExecution) would carry its own wide
    # execute-api:ManageConnections grant on every WebSocket API.
    iam = {logical_id: res["Type"] for logical_id, res in packaged.template["Resources"].items() if res["Type"].startswith("AWS::IAM::")}
    assert iam == {"HelloRole": "AWS::IAM::Role"}
    assert packaged.function()["Role"] == {"Fn::Sub": "${HelloRole.Arn}"}


def test_function_role_is_assumable_by_lambda_only(packaged: Packaged) -> None:
    assert packaged.role()["AssumeRolePolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]


def test_function_role_has_inline_policies_only(packaged: Packaged) -> None:
    # Managed policies or a second role would grant more than the statements checked below.
    assert sorted(packaged.role()) == ["AssumeRolePolicyDocument", "Policies"]


def test_function_role_grants_exactly_its_logs_the_connection_and_rooms_tables_and_manage_connections(
    packaged: Packaged,
) -> None:
    logs = [("Allow", "logs:CreateLogStream", repr(LOG_GROUP_ARN)), ("Allow", "logs:PutLogEvents", repr(LOG_GROUP_ARN))]
    assert grants(packaged.statements()) == sorted(logs + store_grants(MANAGE_CONNECTIONS_ARNS))


def test_function_role_statements_have_no_conditions_or_negations(packaged: Packaged) -> None:
    # NotAction/NotResource would widen a grant that the exact check above cannot see.
    keys = {key for statement in packaged.statements() for key in statement}
    assert keys <= {"Sid", "Effect", "Action", "Resource"}


def test_http_api_sends_every_request_to_the_function(packaged: Packaged) -> None:
    routes = [res["Properties"] for res in packaged.resources("AWS::ApiGatewayV2::Route").values()]
    http_routes = [route["RouteKey"] for route in routes if route["ApiId"] == {"Ref": "HttpApi"}]
    integration = packaged.properties("HttpApiIntegrationHello")
    assert http_routes == ["$default"]
    assert (integration["IntegrationType"], integration["IntegrationUri"]) == (
        "AWS_PROXY",
        {"Fn::GetAtt": ["HelloLambdaFunction", "Arn"]},
    )


def test_websocket_api_routes_on_the_action_field(packaged: Packaged) -> None:
    api = packaged.properties("WebsocketsApi")
    assert (api["ProtocolType"], api["RouteSelectionExpression"]) == ("WEBSOCKET", "$request.body.action")


def test_websocket_routes_are_connect_default_disconnect(packaged: Packaged) -> None:
    routes = [res["Properties"] for res in packaged.resources("AWS::ApiGatewayV2::Route").values()]
    keys = sorted(route["RouteKey"] for route in routes if route["ApiId"] == {"Ref": "WebsocketsApi"})
    assert keys == ["$connect", "$default", "$disconnect"]


def test_websocket_routes_target_the_function_integration(packaged: Packaged) -> None:
    routes = [res["Properties"] for res in packaged.resources("AWS::ApiGatewayV2::Route").values()]
    targets = [route["Target"] for route in routes if route["ApiId"] == {"Ref": "WebsocketsApi"}]
    integration = packaged.properties("HelloWebsocketsIntegration")
    assert targets == [{"Fn::Join": ["/", ["integrations", {"Ref": "HelloWebsocketsIntegration"}]]}] * 3
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert {"Fn::GetAtt": ["HelloLambdaFunction", "Arn"]} in integration["IntegrationUri"]["Fn::Join"][1]


def test_websocket_invoke_permission_is_scoped_to_the_websocket_api(packaged: Packaged) -> None:
    permission = packaged.properties("HelloLambdaPermissionWebsockets")
    granted = (permission["Action"], permission["Principal"], permission["SourceArn"])
    assert granted == ("lambda:InvokeFunction", "apigateway.amazonaws.com", WEBSOCKET_API_ARN)


def test_every_invoke_permission_names_its_source_api(packaged: Packaged) -> None:
    # Without SourceArn, any API Gateway API could invoke the function through the grant.
    permissions = packaged.resources("AWS::Lambda::Permission")
    assert sorted(permissions) == ["HelloLambdaPermissionHttpApi", "HelloLambdaPermissionWebsockets"]
    assert all("SourceArn" in res["Properties"] for res in permissions.values())


def test_connections_table_is_keyed_by_connection_id(packaged: Packaged) -> None:
    table = packaged.properties("ConnectionsTable")
    assert table["KeySchema"] == [{"AttributeName": "connection_id", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "connection_id", "AttributeType": "S"}]


def test_connections_table_expires_records_on_expires_at(packaged: Packaged) -> None:
    ttl = packaged.properties("ConnectionsTable")["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": "expires_at", "Enabled": True}


def test_connections_table_is_billed_per_request(packaged: Packaged) -> None:
    assert packaged.properties("ConnectionsTable")["BillingMode"] == "PAY_PER_REQUEST"


def test_rooms_table_is_keyed_by_room_then_connection_with_the_same_ttl(packaged: Packaged) -> None:
    table = packaged.properties("RoomsTable")
    assert table["KeySchema"] == [{"AttributeName": "room", "KeyType": "HASH"}, {"AttributeName": "connection_id", "KeyType": "RANGE"}]
    assert table["AttributeDefinitions"] == [
        {"AttributeName": "room", "AttributeType": "S"},
        {"AttributeName": "connection_id", "AttributeType": "S"},
    ]
    assert (table["TimeToLiveSpecification"], table["BillingMode"]) == ({"AttributeName": "expires_at", "Enabled": True}, "PAY_PER_REQUEST")
