"""publish_layer.sh against moto in server mode, over HTTP on 127.0.0.1.

The layer is built for real (the universal zip, and a zip for python3.12 on arm64 with the dynamodb
store, which needs nothing downloaded), then published with the command a release runs. Every run
gets --endpoint-url and the fake credentials of tests/support/aws.py, so none can reach
AWS; what it did is read back with boto3 from the same moto server.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml  # a dependency of cfn-lint
from botocore.exceptions import ClientError

from tests.support.aws import CREDENTIALS, fake_aws_environment, moto_url
from tests.support.cloudformation import cfn_lint
from tests.support.net import closed_endpoint
from tests.support.paths import ROOT
from tests.support.runtime.layer import build
from tests.support.services import unavailable

PUBLISH = ROOT / "publish_layer.sh"
UNIVERSAL = "asgi-lambda-layer.zip"
DEPENDENCIES = "asgi-lambda-layer-py3.12-arm64.zip"
PUBLIC_REGIONS = ["us-east-1", "eu-west-1"]


def publish(*args: str) -> subprocess.CompletedProcess[str]:
    # The interpreter running the tests has boto3; PYTHON tells publish_layer.sh to use it.
    env = {**os.environ, "PYTHON": sys.executable}
    return subprocess.run([str(PUBLISH), *args], capture_output=True, text=True, cwd=ROOT, env=env)


def client(service: str, region: str, endpoint_url: str) -> Any:
    return boto3.session.Session().client(service, region_name=region, endpoint_url=endpoint_url, **CREDENTIALS)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("dist")
    universal = build(output=output)
    assert universal.returncode == 0, universal.stderr
    dependencies = build("--python", "3.12", "--arch", "arm64", "--with", "dynamodb", output=output)
    if "python3.12 was not found" in dependencies.stderr:
        unavailable("python3.12 is not installed here; build_layer.sh needs it for a python3.12 layer")
    assert dependencies.returncode == 0, dependencies.stderr
    return output


@pytest.fixture(scope="module")
def endpoint_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        fake_aws_environment(monkeypatch, tmp_path_factory)
        yield moto_url(request)


@pytest.fixture(scope="module")
def published(dist: Path, endpoint_url: str) -> subprocess.CompletedProcess[str]:
    result = publish("--region", ",".join(PUBLIC_REGIONS), "--public", "--endpoint-url", endpoint_url, "--dist", str(dist))
    assert result.returncode == 0, result.stderr
    return result


def only_version(region: str, layer_name: str, endpoint_url: str) -> dict[str, Any]:
    """The one version of a layer in a region, as GetLayerVersion returns it."""
    lam = client("lambda", region, endpoint_url)
    versions = lam.list_layer_versions(LayerName=layer_name)["LayerVersions"]
    assert len(versions) == 1
    return dict(lam.get_layer_version(LayerName=layer_name, VersionNumber=versions[0]["Version"]))


def sha256_base64(path: Path) -> str:
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


# (zip, layer name, runtimes, architectures, SSM parameters): what each zip becomes.
LAYERS = [
    (
        UNIVERSAL,
        "asgi-lambda",
        ["python3.12", "python3.13", "python3.14"],
        ["x86_64", "arm64"],
        ["/asgi-lambda/x86_64/latest", "/asgi-lambda/arm64/latest"],
    ),
    (DEPENDENCIES, "asgi-lambda-python312-arm64", ["python3.12"], ["arm64"], ["/asgi-lambda/arm64/python3.12/latest"]),
]


@pytest.mark.parametrize("region", PUBLIC_REGIONS)
@pytest.mark.parametrize(("zip_name", "layer_name", "runtimes", "architectures", "parameters"), LAYERS, ids=["universal", "py3.12-arm64"])
def test_each_zip_becomes_one_layer_version_with_its_runtimes_and_architectures(
    published: subprocess.CompletedProcess[str],
    dist: Path,
    endpoint_url: str,
    region: str,
    zip_name: str,
    layer_name: str,
    runtimes: list[str],
    architectures: list[str],
    parameters: list[str],
) -> None:
    version = only_version(region, layer_name, endpoint_url)

    assert (version["CompatibleRuntimes"], version["CompatibleArchitectures"]) == (runtimes, architectures)
    assert version["Content"]["CodeSha256"] == sha256_base64(dist / zip_name)
    assert version["LicenseInfo"] == "MIT"
    digest = hashlib.sha256((dist / zip_name).read_bytes()).hexdigest()[:12]
    assert version["Description"] == f"asgi-lambda 0.1.0: any ASGI app on Lambda with no handler code (sha256 {digest})"


@pytest.mark.parametrize("region", PUBLIC_REGIONS)
@pytest.mark.parametrize("layer_name", ["asgi-lambda", "asgi-lambda-python312-arm64"])
def test_public_lets_every_account_get_the_layer_version(
    published: subprocess.CompletedProcess[str], endpoint_url: str, region: str, layer_name: str
) -> None:
    version = only_version(region, layer_name, endpoint_url)

    policy = client("lambda", region, endpoint_url).get_layer_version_policy(LayerName=layer_name, VersionNumber=version["Version"])

    assert json.loads(policy["Policy"])["Statement"] == [
        {
            "Sid": "public",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "lambda:GetLayerVersion",
            "Resource": version["LayerVersionArn"],
        }
    ]


def test_without_public_the_layer_version_has_no_policy(dist: Path, endpoint_url: str) -> None:
    result = publish("--region", "ap-southeast-2", "--endpoint-url", endpoint_url, "--dist", str(dist))
    assert result.returncode == 0, result.stderr
    version = only_version("ap-southeast-2", "asgi-lambda", endpoint_url)

    with pytest.raises(ClientError) as raised:
        client("lambda", "ap-southeast-2", endpoint_url).get_layer_version_policy(LayerName="asgi-lambda", VersionNumber=version["Version"])

    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert (
        "| ap-southeast-2 | " + version["LayerVersionArn"] + " | python3.12, python3.13, python3.14 | x86_64, arm64 | no |" in result.stdout
    )


@pytest.mark.parametrize("region", PUBLIC_REGIONS)
@pytest.mark.parametrize(("zip_name", "layer_name", "runtimes", "architectures", "parameters"), LAYERS, ids=["universal", "py3.12-arm64"])
def test_the_ssm_parameters_hold_the_version_arn(
    published: subprocess.CompletedProcess[str],
    endpoint_url: str,
    region: str,
    zip_name: str,
    layer_name: str,
    runtimes: list[str],
    architectures: list[str],
    parameters: list[str],
) -> None:
    arn = only_version(region, layer_name, endpoint_url)["LayerVersionArn"]
    ssm = client("ssm", region, endpoint_url)

    values = {name: ssm.get_parameter(Name=name)["Parameter"] for name in parameters}

    assert {name: (value["Type"], value["Value"]) for name, value in values.items()} == {name: ("String", arn) for name in parameters}


def test_the_printed_table_lists_every_published_arn(published: subprocess.CompletedProcess[str], endpoint_url: str) -> None:
    rows = [
        f"| {region} | {only_version(region, layer_name, endpoint_url)['LayerVersionArn']} | {', '.join(runtimes)} "
        f"| {', '.join(architectures)} | yes | {', '.join(parameters)} |"
        for region in PUBLIC_REGIONS
        for _, layer_name, runtimes, architectures, parameters in LAYERS
    ]

    assert published.stdout.splitlines() == [
        "| region | layer version ARN | runtimes | architectures | public | SSM parameters |",
        "|---|---|---|---|---|---|",
        *rows,
    ]
    assert published.stderr.splitlines() == [
        f"Publishing {zip_name} as {layer_name} in {region}" for region in PUBLIC_REGIONS for zip_name, layer_name, *_ in LAYERS
    ]


def test_publishing_again_moves_the_parameters_to_the_new_version(dist: Path, endpoint_url: str) -> None:
    region = "ca-central-1"
    first = publish("--region", region, "--endpoint-url", endpoint_url, "--dist", str(dist))
    second = publish("--region", region, "--endpoint-url", endpoint_url, "--dist", str(dist))
    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr

    versions = client("lambda", region, endpoint_url).list_layer_versions(LayerName="asgi-lambda")["LayerVersions"]
    latest = client("ssm", region, endpoint_url).get_parameter(Name="/asgi-lambda/x86_64/latest")["Parameter"]

    assert sorted(version["Version"] for version in versions) == [1, 2]
    assert latest["Value"] == next(version["LayerVersionArn"] for version in versions if version["Version"] == 2)
    assert re.search(r"\| ca-central-1 \| \S+:layer:asgi-lambda:2 \|", second.stdout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "publish_layer.sh: --region is required: the regions to publish to, comma-separated, such as us-east-1,eu-west-1."),
        (["--region", "US_EAST_1"], "publish_layer.sh: --region 'US_EAST_1' is not an AWS region name such as us-east-1 or eu-west-1."),
        (
            ["--region", "us-east-1,europe"],
            "publish_layer.sh: --region 'europe' is not an AWS region name such as us-east-1 or eu-west-1.",
        ),
        (
            ["--region", "us-east-1", "--endpoint-url", "127.0.0.1:5000"],
            "publish_layer.sh: --endpoint-url '127.0.0.1:5000' is not an http:// or https:// URL such as http://127.0.0.1:5000.",
        ),
        (["--region", "us-east-1", "--bogus"], "publish_layer.sh: unrecognized arguments: --bogus"),
    ],
    ids=["no-region", "bad-region", "one-bad-region", "bad-endpoint", "unknown-option"],
)
def test_bad_options_fail_with_a_message_naming_the_option(
    args: list[str], message: str, dist: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    fake_aws_environment(monkeypatch, tmp_path_factory)

    result = publish(*args, "--dist", str(dist))

    assert (result.returncode, result.stdout, result.stderr.splitlines()[-1]) == (2, "", message)


def test_help_shows_region_as_required() -> None:
    result = publish("--help")

    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == "usage: publish_layer.sh --region R[,R...] [--public] [--endpoint-url URL] [--dist DIR]"
    assert "\nrequired:\n  --region R[,R...]" in result.stdout


def test_a_missing_or_empty_dist_fails_saying_to_build_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    fake_aws_environment(monkeypatch, tmp_path_factory)
    (tmp_path / "notes.txt").write_text("not a layer")

    with closed_endpoint() as endpoint_url:
        missing = publish("--region", "us-east-1", "--endpoint-url", endpoint_url, "--dist", str(tmp_path / "dist"))
        empty = publish("--region", "us-east-1", "--endpoint-url", endpoint_url, "--dist", str(tmp_path))

    assert (missing.returncode, missing.stderr.splitlines()) == (
        2,
        [f"publish_layer.sh: {tmp_path / 'dist'} is not a directory: run ./build_layer.sh first, or give the zips' folder with --dist."],
    )
    assert (empty.returncode, empty.stderr.splitlines()) == (
        2,
        [
            f"publish_layer.sh: {tmp_path} holds no layer zip (asgi-lambda-layer.zip or asgi-lambda-layer-py3.X-ARCH.zip):"
            " run ./build_layer.sh first, or give the zips' folder with --dist."
        ],
    )


def test_an_unreachable_endpoint_fails_naming_the_region_and_zip(
    dist: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    fake_aws_environment(monkeypatch, tmp_path_factory)

    with closed_endpoint() as endpoint_url:
        result = publish("--region", "eu-north-1", "--endpoint-url", endpoint_url, "--dist", str(dist))

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines()[-1] == (
        "publish_layer.sh: eu-north-1: publishing asgi-lambda-layer.zip as asgi-lambda failed:"
        f' Could not connect to the endpoint URL: "{endpoint_url}/2018-10-31/layers/asgi-lambda/versions"'
    )


def readme_yaml_blocks() -> list[str]:
    """The ```yaml blocks of the Publishing section of docs/layer.md, in order."""
    page = (ROOT / "docs" / "layer.md").read_text()
    section = page.split("\n## Publishing\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```yaml\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)


def test_the_readme_sam_example_resolves_the_parameter_the_universal_layer_writes(tmp_path: Path) -> None:
    sam, _ = readme_yaml_blocks()
    template = tmp_path / "template.yaml"
    template.write_text(sam)
    lint = cfn_lint(str(template))

    assert (lint.returncode, lint.stdout, lint.stderr) == (0, "", "")
    assert yaml.safe_load(sam)["Resources"]["Api"]["Properties"]["Layers"] == ["{{resolve:ssm:/asgi-lambda/x86_64/latest}}"]
    assert "/asgi-lambda/x86_64/latest" in LAYERS[0][4]


def test_the_readme_serverless_example_reads_the_parameter_the_universal_layer_writes() -> None:
    _, serverless = readme_yaml_blocks()

    assert yaml.safe_load(serverless)["functions"]["api"]["layers"] == ["${ssm:/asgi-lambda/x86_64/latest}"]


def test_a_failed_call_stops_naming_the_region_after_listing_what_was_published(dist: Path, endpoint_url: str) -> None:
    # moto serves no such region: its calls fail with a 500, as an unavailable region would.
    result = publish("--region", "us-east-2,zz-nowhere-1", "--endpoint-url", endpoint_url, "--dist", str(dist))

    assert result.returncode == 1
    assert [line.split(" | ")[0] for line in result.stdout.splitlines()[2:]] == ["| us-east-2", "| us-east-2"]
    announced, failed = result.stderr.splitlines()[2:4]
    assert announced == "Publishing asgi-lambda-layer.zip as asgi-lambda in zz-nowhere-1"
    assert failed.startswith(
        "publish_layer.sh: zz-nowhere-1: publishing asgi-lambda-layer.zip as asgi-lambda failed:"
        " An error occurred (500) when calling the PublishLayerVersion operation"
    )
