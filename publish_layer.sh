#!/usr/bin/env bash
# Publish the layer zips of dist/ (built by ./build_layer.sh) as Lambda layer versions.
#
#   ./publish_layer.sh --region us-east-1,eu-west-1 [--public] [--endpoint-url URL] [--dist DIR]
#
# In each region: one layer version per zip, with its compatible runtimes and architectures,
# public with --public, and its ARN in the SSM parameters /asgi-lambda/<arch>/latest; then a
# table of the ARNs. tools/publish_layer.py does the work with boto3 (README: Publishing).
set -euo pipefail

root=$(cd "$(dirname "$0")" && pwd)
# boto3 is a developer tool: the project's venv has it (make setup); PYTHON chooses another.
python=${PYTHON:-$([ -x "$root/.venv/bin/python" ] && echo "$root/.venv/bin/python" || echo python3)}
exec "$python" "$root/tools/publish_layer.py" "$@"
