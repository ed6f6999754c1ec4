"""The asgi-lambda layer deployed with the AWS CDK: examples/hello served over an HTTP API and a
WebSocket API, its connections in DynamoDB, with no handler code.

    ./build_layer.sh                      # from the repository root: dist/asgi-lambda-layer.zip
    cd examples/cdk && pip install -r requirements.txt && npx aws-cdk deploy

`-c layerArn=arn:aws:lambda:...` attaches a published layer instead of the local zip, and
`-c layerZip=PATH` takes the zip from elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk.aws_apigatewayv2_integrations import HttpLambdaIntegration, WebSocketLambdaIntegration
from constructs import Construct

EXAMPLES = Path(__file__).resolve().parent.parent
DEFAULT_LAYER_ZIP = EXAMPLES.parent / "dist" / "asgi-lambda-layer.zip"


class AsgiLambdaStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)

        layer_arn = self.node.try_get_context("layerArn")
        if layer_arn:
            layer = lambda_.LayerVersion.from_layer_version_arn(self, "AsgiLambdaLayer", layer_arn)
        else:
            zip_path = Path(self.node.try_get_context("layerZip") or DEFAULT_LAYER_ZIP)
            if not zip_path.is_file():
                raise SystemExit(f"{zip_path} is missing: run ./build_layer.sh from the repository root, or pass -c layerArn=ARN.")
            layer = lambda_.LayerVersion(
                self,
                "AsgiLambdaLayer",
                code=lambda_.Code.from_asset(str(zip_path)),
                compatible_runtimes=[lambda_.Runtime.PYTHON_3_12, lambda_.Runtime.PYTHON_3_13, lambda_.Runtime.PYTHON_3_14],
                compatible_architectures=[lambda_.Architecture.X86_64, lambda_.Architecture.ARM_64],
                description="Run any ASGI app on AWS Lambda with no handler code",
                license="MIT",
            )

        # WebSocket connections span many invocations, so their records live outside the function.
        connections = dynamodb.Table(
            self,
            "Connections",
            partition_key=dynamodb.Attribute(name="connection_id", type=dynamodb.AttributeType.STRING),
            time_to_live_attribute="expires_at",
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        # One item per room membership (asgi_lambda.websocket.join): a room's members are one Query
        # on its partition. TTL removes the memberships of connections whose $disconnect never ran.
        rooms = dynamodb.Table(
            self,
            "Rooms",
            partition_key=dynamodb.Attribute(name="room", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="connection_id", type=dynamodb.AttributeType.STRING),
            time_to_live_attribute="expires_at",
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )

        function = lambda_.Function(
            self,
            "Hello",
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.ARM_64,
            code=lambda_.Code.from_asset(str(EXAMPLES / "hello")),
            # Never called: the wrapper points the runtime at the layer's handler.
            handler="main.app",
            layers=[layer],
            memory_size=256,
            # Below API Gateway's integration timeouts, so a slow app times out in Lambda, where it is logged.
            timeout=cdk.Duration.seconds(28),
            environment={
                "AWS_LAMBDA_EXEC_WRAPPER": "/opt/asgi-bootstrap",
                "ASGI_APP": "main:app",
                "WS_BACKEND": "dynamodb",
                "WS_DYNAMODB_TABLE": connections.table_name,
                "WS_DYNAMODB_ROOMS_TABLE": rooms.table_name,
                "WS_PATH": "/ws",
            },
        )

        http_api = apigwv2.HttpApi(self, "HttpApi", default_integration=HttpLambdaIntegration("HelloHttp", function))

        websocket = WebSocketLambdaIntegration("HelloWebSocket", function)
        websocket_api = apigwv2.WebSocketApi(
            self,
            "WebSocketApi",
            connect_route_options=apigwv2.WebSocketRouteOptions(integration=websocket),
            disconnect_route_options=apigwv2.WebSocketRouteOptions(integration=websocket),
            default_route_options=apigwv2.WebSocketRouteOptions(integration=websocket),
        )
        stage_name = "prod"
        stage = apigwv2.WebSocketStage(self, "Prod", web_socket_api=websocket_api, stage_name=stage_name, auto_deploy=True)

        # Least privilege: the calls the DynamoDB store makes (rooms and sessions write with
        # TransactWriteItems and UpdateItem, which IAM checks as the Put, Update and Delete of each
        # item), and replies (POST) and closes (DELETE) through the Management API on this stage;
        # not grant_manage_connections, which allows every method on every stage.
        connections.grant(function, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Scan")
        rooms.grant(function, "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query")
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["execute-api:ManageConnections"],
                resources=[
                    self.format_arn(
                        service="execute-api",
                        resource=websocket_api.api_id,
                        resource_name=f"{stage_name}/{method}/@connections/*",
                        arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
                    )
                    for method in ("POST", "DELETE")
                ],
            )
        )

        cdk.CfnOutput(self, "HttpUrl", value=http_api.url or "")
        cdk.CfnOutput(self, "WebSocketUrl", value=stage.url)


app = cdk.App()
AsgiLambdaStack(app, "AsgiLambdaHello")
app.synth()
