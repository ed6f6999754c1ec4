"""Publish the layer zips that build_layer.sh wrote, in each region asked for (publish_layer.sh runs this).

For each zip and region, the calls the AWS CLI would make: lambda PublishLayerVersion with the zip's
bytes and its compatible runtimes and architectures, lambda AddLayerVersionPermission for every
account when --public, and ssm PutParameter of the new version's ARN. Then a Markdown table of what
was published, ready for release notes.

    zip in dist/                          layer name                     SSM parameters
    asgi-lambda-layer.zip                 asgi-lambda                    /asgi-lambda/x86_64/latest
                                                                         /asgi-lambda/arm64/latest
    asgi-lambda-layer-py3.13-arm64.zip    asgi-lambda-python313-arm64    /asgi-lambda/arm64/python3.13/latest

The universal layer fits every runtime on both architectures, so both architectures' parameters name
it; a layer with compiled dependencies fits one runtime on one architecture and gets a parameter of
its own below its architecture's, so a template never picks up compiled code it did not ask for.

boto3 is a developer tool here: the layer never ships it.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parent.parent
PROG = "publish_layer.sh"

# us-east-1, eu-central-2, us-gov-west-1, cn-north-1, ap-southeast-7...
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")
UNIVERSAL_ZIP = "asgi-lambda-layer.zip"
DEPENDENCIES_ZIP = re.compile(r"asgi-lambda-layer-py(?P<python>3\.[0-9]+)-(?P<arch>x86_64|arm64)\.zip")
# Lambda's own action name for reading (and so attaching) a layer version.
PUBLIC_STATEMENT = {"StatementId": "public", "Action": "lambda:GetLayerVersion", "Principal": "*"}


class PublishError(Exception):
    """A fault the user can fix; the message names the option, file or region at fault."""


@dataclass(frozen=True)
class LayerZip:
    path: Path
    layer_name: str
    runtimes: tuple[str, ...]
    architectures: tuple[str, ...]
    parameters: tuple[str, ...]


@dataclass(frozen=True)
class Published:
    region: str
    layer: LayerZip
    arn: str
    public: bool


def supported(variable: str) -> tuple[str, ...]:
    """SUPPORTED_PYTHONS or SUPPORTED_ARCHES from build_layer.sh, the one place that lists them."""
    match = re.search(rf"^{variable}=\(([^)]*)\)$", (ROOT / "build_layer.sh").read_text(), re.MULTILINE)
    if match is None:
        raise PublishError(f"build_layer.sh has no {variable}=(...) line to read the layer's targets from.")
    return tuple(match.group(1).split())


def layer_zips(dist: Path) -> list[LayerZip]:
    """The zips build_layer.sh wrote in dist, with what each is published as; other files are left alone."""
    if not dist.is_dir():
        raise PublishError(f"{dist} is not a directory: run ./build_layer.sh first, or give the zips' folder with --dist.")
    found = []
    # The universal zip first: it is the one most functions attach.
    for path in sorted(dist.iterdir(), key=lambda path: (path.name != UNIVERSAL_ZIP, path.name)):
        if path.name == UNIVERSAL_ZIP:
            arches = supported("SUPPORTED_ARCHES")
            runtimes = tuple(f"python{version}" for version in supported("SUPPORTED_PYTHONS"))
            found.append(LayerZip(path, "asgi-lambda", runtimes, arches, tuple(f"/asgi-lambda/{arch}/latest" for arch in arches)))
        elif match := DEPENDENCIES_ZIP.fullmatch(path.name):
            runtime, arch = f"python{match['python']}", match["arch"]
            # Layer names take letters, digits, - and _ only: python3.13 becomes python313.
            name = f"asgi-lambda-{runtime.replace('.', '')}-{arch}"
            found.append(LayerZip(path, name, (runtime,), (arch,), (f"/asgi-lambda/{arch}/{runtime}/latest",)))
    if not found:
        raise PublishError(
            f"{dist} holds no layer zip ({UNIVERSAL_ZIP} or asgi-lambda-layer-py3.X-ARCH.zip): run ./build_layer.sh first,"
            " or give the zips' folder with --dist."
        )
    return found


def package_version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


def publish(client: Any, ssm: Any, layer: LayerZip, *, region: str, public: bool, version: str) -> Published:
    content = layer.path.read_bytes()
    response = client.publish_layer_version(
        LayerName=layer.layer_name,
        Description=f"asgi-lambda {version}: any ASGI app on Lambda with no handler code (sha256 {hashlib.sha256(content).hexdigest()[:12]})",
        Content={"ZipFile": content},
        CompatibleRuntimes=list(layer.runtimes),
        CompatibleArchitectures=list(layer.architectures),
        LicenseInfo="MIT",
    )
    arn: str = response["LayerVersionArn"]
    if public:
        client.add_layer_version_permission(LayerName=layer.layer_name, VersionNumber=response["Version"], **PUBLIC_STATEMENT)
    for name in layer.parameters:
        ssm.put_parameter(
            Name=name,
            Value=arn,
            Type="String",
            Overwrite=True,
            Description=f"The latest {layer.layer_name} layer version, written by publish_layer.sh",
        )
    return Published(region, layer, arn, public)


def table(published: Sequence[Published]) -> str:
    rows = ["| region | layer version ARN | runtimes | architectures | public | SSM parameters |", "|---|---|---|---|---|---|"]
    for item in published:
        cells = (
            item.region,
            item.arn,
            ", ".join(item.layer.runtimes),
            ", ".join(item.layer.architectures),
            "yes" if item.public else "no",
            ", ".join(item.layer.parameters),
        )
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{PROG}: {message}\n")


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = Parser(
        prog=PROG,
        # --region is required; argparse's own usage would show it in brackets, as an option that may be left out.
        usage="%(prog)s --region R[,R...] [--public] [--endpoint-url URL] [--dist DIR]",
        description="Publish the layer zips of dist/ as Lambda layer versions, region by region.",
    )
    required = parser.add_argument_group("required")
    required.add_argument("--region", metavar="R[,R...]", help="regions to publish to, comma-separated: us-east-1,eu-west-1")
    parser.add_argument("--public", action="store_true", help="let every AWS account attach the published versions")
    parser.add_argument("--endpoint-url", metavar="URL", help="send every call to this URL instead of AWS (tests, private clouds)")
    parser.add_argument("--dist", metavar="DIR", type=Path, default=ROOT / "dist", help="where the zips are (default: dist)")
    args = parser.parse_args(argv)
    if not args.region:
        parser.error("--region is required: the regions to publish to, comma-separated, such as us-east-1,eu-west-1.")
    # Each region once, in the order given.
    args.regions = list(dict.fromkeys(region.strip() for region in args.region.split(",")))
    for region in args.regions:
        if not REGION.fullmatch(region):
            parser.error(f"--region '{region}' is not an AWS region name such as us-east-1 or eu-west-1.")
    if args.endpoint_url is not None and not re.fullmatch(r"https?://[^/\s]+(/\S*)?", args.endpoint_url):
        parser.error(f"--endpoint-url '{args.endpoint_url}' is not an http:// or https:// URL such as http://127.0.0.1:5000.")
    return args


def main(argv: Sequence[str]) -> int:
    args = parse(argv)
    try:
        zips = layer_zips(args.dist)
    except PublishError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ModuleNotFoundError:
        print(
            f"{PROG}: boto3 is needed to publish: run make setup (publish_layer.sh then uses .venv), or pip install boto3.", file=sys.stderr
        )
        return 2
    version = package_version()
    published: list[Published] = []
    for region in args.regions:
        session = boto3.session.Session(region_name=region)
        client = session.client("lambda", endpoint_url=args.endpoint_url)
        ssm = session.client("ssm", endpoint_url=args.endpoint_url)
        for layer in zips:
            print(f"Publishing {layer.path.name} as {layer.layer_name} in {region}", file=sys.stderr)
            try:
                published.append(publish(client, ssm, layer, region=region, public=args.public, version=version))
            except (BotoCoreError, ClientError) as error:
                if published:
                    print(table(published))
                print(f"{PROG}: {region}: publishing {layer.path.name} as {layer.layer_name} failed: {error}", file=sys.stderr)
                return 1
    print(table(published))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
