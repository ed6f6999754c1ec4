"""The commands and the template of docs/getting-started.md, run: the AWS CLI recipe against a moto
server (the real `aws` CLI, every call given --endpoint-url and fake credentials, so none can reach
AWS), and the SAM template through cfn-lint."""

from __future__ import annotations

import io
import os
import re
import shlex
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml  # a dependency of cfn-lint

from tests.support.aws import CREDENTIALS, REGION, fake_aws_environment, moto_url
from tests.support.cloudformation import cfn_lint
from tests.support.paths import DOCS
from tests.support.services import unavailable

PAGE = (DOCS / "getting-started.md").read_text()
DOCUMENTED_ARN = "arn:aws:lambda:us-east-1:123456789012:layer:asgi-lambda:1"


def blocks(heading: str, language: str) -> list[str]:
    """The ```language blocks of a section of the page, in order."""
    section = PAGE.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"^```{language}\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)


def commands(block: str) -> list[list[str]]:
    """A sh block's commands as argv lists (continuation lines joined)."""
    return [shlex.split(line) for line in block.replace("\\\n", " ").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def endpoint_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        fake_aws_environment(monkeypatch, tmp_path_factory)
        yield moto_url(request)


def client(service: str, endpoint_url: str) -> Any:
    return boto3.session.Session().client(service, region_name=REGION, endpoint_url=endpoint_url, **CREDENTIALS)


def zipped(name: str, text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, text)
    return buffer.getvalue()


def aws(argv: list[str], endpoint_url: str) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("aws")
    if executable is None:
        unavailable("the AWS CLI (aws) is not installed; the getting-started recipe needs it")
    assert argv[0] == "aws"
    return subprocess.run(
        [executable, *argv[1:], "--endpoint-url", endpoint_url, "--region", REGION, "--output", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )


def test_the_aws_cli_recipe_attaches_the_layer_and_sets_the_two_variables(endpoint_url: str) -> None:
    lam = client("lambda", endpoint_url)
    role = client("iam", endpoint_url).create_role(RoleName="getting-started", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    layer = lam.publish_layer_version(LayerName="asgi-lambda", Content={"ZipFile": zipped("python/x.py", "")})["LayerVersionArn"]
    lam.create_function(
        FunctionName="my-function",
        Runtime="python3.13",
        Role=role,
        Handler="main.app",
        Code={"ZipFile": zipped("main.py", "app = None\n")},
    )
    update, url = (command for block in blocks("With the AWS CLI", "sh") for command in commands(block))

    attached = aws([layer if word == DOCUMENTED_ARN else word for word in update], endpoint_url)
    made = aws(url, endpoint_url)

    assert attached.returncode == 0, attached.stderr
    assert made.returncode == 0, made.stderr
    configuration = lam.get_function_configuration(FunctionName="my-function")
    assert [entry["Arn"] for entry in configuration["Layers"]] == [layer]
    assert configuration["Environment"]["Variables"] == {"AWS_LAMBDA_EXEC_WRAPPER": "/opt/asgi-bootstrap", "ASGI_APP": "main:app"}
    assert lam.get_function_url_config(FunctionName="my-function")["AuthType"] == "AWS_IAM"


def test_the_sam_template_defines_the_layer_it_attaches_and_passes_cfn_lint(tmp_path: Path) -> None:
    (template,) = blocks("Quick start with SAM", "yaml")
    path = tmp_path / "template.yaml"
    path.write_text(template)
    lint = cfn_lint(str(path))

    assert (lint.returncode, lint.stdout, lint.stderr) == (0, "", "")
    resources = yaml.safe_load(template.replace("!Ref ", ""))["Resources"]
    assert resources["AsgiLambdaLayer"]["Type"] == "AWS::Serverless::LayerVersion"
    assert resources["MyFunction"]["Properties"]["Layers"] == ["AsgiLambdaLayer"]
    assert resources["MyFunction"]["Properties"]["Environment"]["Variables"] == {
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/asgi-bootstrap",
        "ASGI_APP": "main:app",
    }


def test_the_readme_shows_the_same_aws_cli_recipe() -> None:
    readme = (DOCS.parent / "README.md").read_text()

    (recipe,) = [block for block in re.findall(r"^```sh\n(.*?)^```$", readme, re.M | re.S) if "update-function-configuration" in block]
    assert recipe == blocks("With the AWS CLI", "sh")[0]
