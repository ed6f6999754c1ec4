"""template.yaml: cfn-lint is clean, and the security-relevant facts are exactly as intended.

Offline: nothing here deploys or talks to AWS.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml  # a dependency of cfn-lint, so present wherever cfn-lint is

from tests.support.cloudformation import cfn_lint, grants, store_grants
from tests.support.paths import ROOT

TEMPLATE = ROOT / "template.yaml"

# The resources the function may touch; all are the template's own, in CloudFormation long form.
QUEUE_ARN = {"Fn::GetAtt": ["FanoutQueue", "Arn"]}
WEBSOCKET_API_ARN = {"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApi}/*"}
# ManageConnections: POST (replies) and DELETE (closes) on the stage, nothing else.
MANAGE_CONNECTIONS_ARNS = [
    {"Fn::Sub": f"arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{WebSocketApi}}/prod/{method}/@connections/*"}
    for method in ("POST", "DELETE")
]
STREAM_REST_API_ARN = {"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${StreamRestApi}/*"}
# Lambda's InvokeWithResponseStream, which a streaming REST integration calls (Invoke's is 2015-03-31 .../invocations).
STREAMING_INVOCATIONS_URI = {
    "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2021-11-15/functions/${StreamFunction.Arn}/response-streaming-invocations"
}


class CloudFormationLoader(yaml.SafeLoader):
    """A safe loader that reads short-form tags (!Ref, !Sub, !GetAtt...) as their long form."""


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _short_form)


def load_template() -> dict[str, Any]:
    template = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=CloudFormationLoader)
    assert isinstance(template, dict)
    return template


def resource(logical_id: str) -> dict[str, Any]:
    found = load_template()["Resources"][logical_id]
    assert isinstance(found, dict)
    return found


def properties(logical_id: str) -> dict[str, Any]:
    props = resource(logical_id)["Properties"]
    assert isinstance(props, dict)
    return props


def the_function() -> dict[str, Any]:
    """The example function (HelloFunction); the streaming example's is checked apart, below."""
    functions = [logical_id for logical_id, res in load_template()["Resources"].items() if res["Type"] == "AWS::Serverless::Function"]
    assert functions == ["HelloFunction", "StreamFunction"]
    return properties("HelloFunction")


def statements(*, fanout: bool) -> list[dict[str, Any]]:
    """The function's policy statements as deployed with Fanout=on (True) or off: an
    `!If [FanoutOn, ...]` statement resolved, AWS::NoValue dropped."""
    resolved = []
    for policy in the_function()["Policies"]:
        for statement in policy["Statement"]:
            if "Fn::If" in statement:
                condition, when_on, when_off = statement["Fn::If"]
                assert condition == "FanoutOn"
                statement = when_on if fanout else when_off
            if statement != {"Ref": "AWS::NoValue"}:
                resolved.append(statement)
    return resolved


def test_cfn_lint_reports_nothing() -> None:
    result = cfn_lint("template.yaml", cwd=ROOT)
    assert (result.returncode, result.stdout) == (0, ""), result.stderr


def test_function_policies_are_inline_statements_only() -> None:
    function = the_function()
    # A custom role or a managed/SAM policy would grant more than the statements checked below.
    assert "Role" not in function
    assert [sorted(policy) for policy in function["Policies"]] == [["Statement", "Version"]]


STORE_GRANTS = store_grants(MANAGE_CONNECTIONS_ARNS)
FANOUT_GRANTS = [
    ("Allow", "sqs:SendMessage", repr(QUEUE_ARN)),
    ("Allow", "sqs:ReceiveMessage", repr(QUEUE_ARN)),
    ("Allow", "sqs:DeleteMessage", repr(QUEUE_ARN)),
    ("Allow", "sqs:GetQueueAttributes", repr(QUEUE_ARN)),
]


@pytest.mark.parametrize("fanout", [False, True], ids=["fanout-off", "fanout-on"])
def test_function_grants_exactly_the_stores_tables_manage_connections_and_with_fanout_its_queue(fanout: bool) -> None:
    assert grants(statements(fanout=fanout)) == sorted(STORE_GRANTS + (FANOUT_GRANTS if fanout else []))


def test_function_statements_have_no_conditions_or_negations() -> None:
    # NotAction/NotResource would widen a grant that the exact check above cannot see.
    keys = {key for fanout in (False, True) for st in statements(fanout=fanout) for key in st}
    assert keys <= {"Sid", "Effect", "Action", "Resource"}


def test_layer_runtimes_are_python_3_12_to_3_14() -> None:
    assert properties("AsgiLambdaLayer")["CompatibleRuntimes"] == ["python3.12", "python3.13", "python3.14"]


def test_layer_supports_both_architectures() -> None:
    assert sorted(properties("AsgiLambdaLayer")["CompatibleArchitectures"]) == ["arm64", "x86_64"]


def test_layer_content_is_the_built_zip() -> None:
    assert properties("AsgiLambdaLayer")["ContentUri"] == "dist/asgi-lambda-layer.zip"


def test_function_uses_the_layer() -> None:
    assert the_function()["Layers"] == [{"Ref": "AsgiLambdaLayer"}]


def test_function_environment_enables_the_exec_wrapper() -> None:
    env = the_function()["Environment"]["Variables"]
    assert (env["AWS_LAMBDA_EXEC_WRAPPER"], env["ASGI_APP"]) == ("/opt/asgi-bootstrap", "hello.main:app")


def test_function_environment_selects_the_dynamodb_websocket_backend() -> None:
    env = the_function()["Environment"]["Variables"]
    assert (env["WS_BACKEND"], env["WS_DYNAMODB_TABLE"]) == ("dynamodb", {"Ref": "ConnectionsTable"})


def test_function_code_is_the_examples_and_asgi_app_picks_one() -> None:
    code_uri = the_function()["CodeUri"]
    assert code_uri == "examples/"
    # hello.main:app as shipped; chat.main:app deploys the chat example, nothing else changed.
    assert (ROOT / code_uri / "hello" / "main.py").is_file() and (ROOT / code_uri / "chat" / "main.py").is_file()
    assert "fastapi" in (ROOT / code_uri / "requirements.txt").read_text()


def test_http_api_routes_root_and_every_path_to_the_function() -> None:
    events = the_function()["Events"].values()
    routes = sorted((e["Type"], e["Properties"]["Path"], e["Properties"]["Method"]) for e in events)
    assert routes == [("HttpApi", "/", "ANY"), ("HttpApi", "/{proxy+}", "ANY")]


def test_websocket_api_routes_on_the_action_field() -> None:
    api = properties("WebSocketApi")
    assert (api["ProtocolType"], api["RouteSelectionExpression"]) == ("WEBSOCKET", "$request.body.action")


def test_websocket_routes_are_connect_default_disconnect() -> None:
    routes = [res["Properties"] for res in load_template()["Resources"].values() if res["Type"] == "AWS::ApiGatewayV2::Route"]
    assert sorted(route["RouteKey"] for route in routes) == ["$connect", "$default", "$disconnect"]


def test_websocket_routes_target_the_function_integration() -> None:
    targets = [
        (res["Properties"]["ApiId"], res["Properties"]["Target"])
        for res in load_template()["Resources"].values()
        if res["Type"] == "AWS::ApiGatewayV2::Route"
    ]
    expected = ({"Ref": "WebSocketApi"}, {"Fn::Sub": "integrations/${WebSocketIntegration}"})
    assert targets == [expected] * 3


def test_websocket_integration_proxies_to_the_function() -> None:
    integration = properties("WebSocketIntegration")
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert "${HelloFunction.Arn}/invocations" in integration["IntegrationUri"]["Fn::Sub"]


def test_websocket_invoke_permission_is_scoped_to_the_websocket_api() -> None:
    permission = properties("WebSocketInvokePermission")
    granted = (permission["Action"], permission["Principal"], permission["SourceArn"])
    assert granted == ("lambda:InvokeFunction", "apigateway.amazonaws.com", WEBSOCKET_API_ARN)


def test_connections_table_is_keyed_by_connection_id() -> None:
    table = properties("ConnectionsTable")
    assert table["KeySchema"] == [{"AttributeName": "connection_id", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "connection_id", "AttributeType": "S"}]


def test_connections_table_expires_records_on_expires_at() -> None:
    ttl = properties("ConnectionsTable")["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": "expires_at", "Enabled": True}


def test_connections_table_is_billed_per_request() -> None:
    assert properties("ConnectionsTable")["BillingMode"] == "PAY_PER_REQUEST"


def test_rooms_table_is_keyed_by_room_then_connection_id_and_expires_on_expires_at() -> None:
    table = properties("RoomsTable")
    assert table["KeySchema"] == [{"AttributeName": "room", "KeyType": "HASH"}, {"AttributeName": "connection_id", "KeyType": "RANGE"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert the_function()["Environment"]["Variables"]["WS_DYNAMODB_ROOMS_TABLE"] == {"Ref": "RoomsTable"}


def test_fanout_is_off_unless_the_parameter_says_on() -> None:
    template = load_template()
    assert template["Parameters"]["Fanout"]["Default"] == "off"
    assert template["Conditions"]["FanoutOn"] == {"Fn::Equals": [{"Ref": "Fanout"}, "on"]}
    for logical_id in ("FanoutQueue", "FanoutDeadLetterQueue", "FanoutEventSourceMapping"):
        assert resource(logical_id)["Condition"] == "FanoutOn"
    assert the_function()["Environment"]["Variables"]["WS_FANOUT_QUEUE_URL"] == {
        "Fn::If": ["FanoutOn", {"Ref": "FanoutQueue"}, {"Ref": "AWS::NoValue"}]
    }


def test_the_fanout_queue_feeds_the_same_function_reporting_failed_pages() -> None:
    mapping = properties("FanoutEventSourceMapping")
    assert (mapping["EventSourceArn"], mapping["FunctionName"]) == (QUEUE_ARN, {"Ref": "HelloFunction"})
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = properties("FanoutQueue")
    # Lambda's advice for SQS sources: a visibility timeout of six times the function's timeout.
    assert queue["VisibilityTimeout"] >= 6 * the_function()["Timeout"]
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": ["FanoutDeadLetterQueue", "Arn"]}, "maxReceiveCount": 5}


# --- response streaming: examples/stream behind a Function URL and a REST API that stream -----------------


def test_stream_function_serves_the_stream_example_with_response_streaming_on() -> None:
    function = properties("StreamFunction")
    assert function["Environment"]["Variables"] == {
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/asgi-bootstrap",
        "ASGI_APP": "stream.main:app",
        "ASGI_INVOKE_MODE": "response_stream",
    }
    assert (function["CodeUri"], function["Layers"]) == ("examples/", [{"Ref": "AsgiLambdaLayer"}])
    assert (ROOT / "examples" / "stream" / "main.py").is_file()
    # No statements of its own: the basic execution role (logs) is all it needs.
    assert "Policies" not in function and "Role" not in function


def test_stream_function_url_streams_and_is_public() -> None:
    assert resource("StreamFunctionUrl")["Type"] == "AWS::Lambda::Url"
    assert properties("StreamFunctionUrl") == {
        "TargetFunctionArn": {"Fn::GetAtt": ["StreamFunction", "Arn"]},
        "AuthType": "NONE",
        "InvokeMode": "RESPONSE_STREAM",
    }


def test_stream_function_url_has_both_permissions_a_public_url_needs() -> None:
    assert properties("StreamFunctionUrlPermission") == {
        "Action": "lambda:InvokeFunctionUrl",
        "FunctionName": {"Ref": "StreamFunction"},
        "Principal": "*",
        "FunctionUrlAuthType": "NONE",
    }
    # Through the URL only: without InvokedViaFunctionUrl this would let anyone call Invoke.
    assert properties("StreamFunctionUrlInvokePermission") == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Ref": "StreamFunction"},
        "Principal": "*",
        "InvokedViaFunctionUrl": True,
    }


def test_stream_rest_api_methods_stream_from_invoke_with_response_stream() -> None:
    expected_integration = {
        "Type": "AWS_PROXY",
        "IntegrationHttpMethod": "POST",
        "Uri": STREAMING_INVOCATIONS_URI,
        "ResponseTransferMode": "STREAM",
        "TimeoutInMillis": 60000,
    }
    root = properties("StreamRestApiRootMethod")
    proxy = properties("StreamRestApiProxyMethod")
    assert (root["ResourceId"], proxy["ResourceId"]) == (
        {"Fn::GetAtt": ["StreamRestApi", "RootResourceId"]},
        {"Ref": "StreamRestApiProxyResource"},
    )
    for method in (root, proxy):
        assert (method["RestApiId"], method["HttpMethod"], method["AuthorizationType"]) == ({"Ref": "StreamRestApi"}, "ANY", "NONE")
        assert method["Integration"] == expected_integration
    assert properties("StreamRestApiProxyResource")["PathPart"] == "{proxy+}"


def test_stream_rest_api_is_deployed_to_prod_after_its_methods() -> None:
    assert resource("StreamRestApiDeployment")["DependsOn"] == ["StreamRestApiRootMethod", "StreamRestApiProxyMethod"]
    assert properties("StreamRestApiStage") == {
        "RestApiId": {"Ref": "StreamRestApi"},
        "DeploymentId": {"Ref": "StreamRestApiDeployment"},
        "StageName": "prod",
    }


def test_stream_rest_api_invoke_permission_is_scoped_to_that_api() -> None:
    assert properties("StreamRestApiInvokePermission") == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Ref": "StreamFunction"},
        "Principal": "apigateway.amazonaws.com",
        "SourceArn": STREAM_REST_API_ARN,
    }


def test_stream_outputs_give_both_urls() -> None:
    outputs = load_template()["Outputs"]
    assert outputs["StreamFunctionUrl"]["Value"] == {"Fn::GetAtt": ["StreamFunctionUrl", "FunctionUrl"]}
    assert outputs["StreamRestApiUrl"]["Value"] == {
        "Fn::Sub": "https://${StreamRestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${StreamRestApiStage}/"
    }
