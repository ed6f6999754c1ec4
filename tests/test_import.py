"""What importing the package costs: nothing beyond the standard library, never boto3."""

from __future__ import annotations

import subprocess
import sys


def test_importing_asgi_lambda_imports_no_aws_sdk_or_third_party_package() -> None:
    code = (
        "import sys; before = set(sys.modules); import asgi_lambda; "
        "new = sorted(m.split('.')[0] for m in set(sys.modules) - before); "
        "stdlib = sys.stdlib_module_names; print(sorted({m for m in new if m not in stdlib and m != 'asgi_lambda'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "[]"
